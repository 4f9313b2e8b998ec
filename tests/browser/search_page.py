"""End-to-end tests of the search page in headless Chromium (Debian's /usr/bin/chromium,
driven by Playwright; no browser is downloaded).

    python tests/browser/search_page.py BASE_URL OUTPUT_DIR

Each test saves a screenshot as OUTPUT_DIR/<test>.png. Exits non-zero if any test fails.
"""

import asyncio
import json
import sys
import tempfile
import time
import traceback
import urllib.parse
import urllib.request
from pathlib import Path

from playwright.async_api import Page, async_playwright, expect

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 10_000

base = sys.argv[1].rstrip("/")
output = Path(sys.argv[2])
output.mkdir(parents=True, exist_ok=True)


def api(path, **params):
    """The API's own answer, for comparing what the page shows."""
    query = urllib.parse.urlencode(params, doseq=True)
    with urllib.request.urlopen(f"{base}{path}?{query}", timeout=10) as response:
        return json.load(response)


def status_total(text):
    return int(text.split(" ")[0].replace(",", ""))


async def hit_names(page: Page):
    return await page.locator("#hits li h2").all_inner_texts()


async def wait_for_total(page: Page, total: int):
    await expect(page.locator("#status")).to_have_attribute("data-total", str(total), timeout=TIMEOUT_MS)


async def test_typing_key_by_key_shows_results_of_the_last_query(page: Page):
    """Typed one key at a time, each prefix searched; the answer to `wireless` is held back
    until after the last one's, and must not replace it."""
    seen = []
    final = "wireless headph"

    async def slow_earlier_answers(route):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(route.request.url).query).get("q", [""])[0]
        seen.append(q)
        if q.strip() == "wireless":  # a prefix with other results, answered last
            await asyncio.sleep(2.5)
        await route.continue_()

    await page.route("**/products/search?*", slow_earlier_answers)
    await page.goto(f"{base}/")
    # Slower than the page's pause, so every prefix is searched and answered late.
    await page.locator("#q").press_sequentially(final, delay=250)
    expected = api("/products/search", q=final, limit=20, highlight="true")
    assert expected["total_found"] > 0, "the query should find products"
    await wait_for_total(page, expected["total_found"])
    await page.wait_for_timeout(3_000)  # the held-back answer has arrived by now
    assert "wireless" in [q.strip() for q in seen] and len(seen) >= 5, f"only {seen} were searched"
    await wait_for_total(page, expected["total_found"])
    names = await hit_names(page)
    assert names == [p["name"] for p in expected["products"]], names[:3]
    marks = await page.locator("#hits li h2 mark").all_inner_texts()
    assert any(m.lower().startswith("headph") for m in marks), marks[:5]
    assert urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)["q"] == [final], page.url
    await page.unroute("**/products/search?*")


async def test_ticking_a_facet_narrows_the_total_to_its_count(page: Page):
    await page.goto(f"{base}/?q=alpha")
    await expect(page.locator("#category-facet input").first).to_be_visible(timeout=TIMEOUT_MS)
    before = status_total(await page.locator("#status").inner_text())
    labels = page.locator("#category-facet label")
    assert await labels.count() >= 2, "alpha should span several categories"
    second = labels.nth(1)
    name = await second.locator("span").first.inner_text()
    count = int((await second.locator(".count").inner_text()).replace(",", ""))
    assert 0 < count < before, (count, before)
    # With the keyboard: focus the box, press space.
    await second.locator("input").focus()
    await page.keyboard.press("Space")
    await wait_for_total(page, count)
    assert urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)["category"] == [name], page.url
    await expect(second.locator("input")).to_be_checked()


async def test_an_attribute_facet_filters_and_stays_in_the_link(page: Page):
    """Attribute facets come from the settings' filterable attributes: values with counts
    for text, a from/to range for numbers; a choice is kept in the URL and sent as `filter`."""
    await page.goto(f"{base}/?category=Clothing")
    colors = page.locator("#attribute-color label")
    await expect(colors.first).to_be_visible(timeout=TIMEOUT_MS)
    assert await colors.count() >= 2, "clothing comes in several colours"
    second = colors.nth(1)
    value = await second.locator("span").first.inner_text()
    count = int((await second.locator(".count").inner_text()).replace(",", ""))
    expected = api("/products/search", category="Clothing", filter=f'attributes.color IN ["{value}"]', limit=1)
    assert expected["total_found"] == count, (value, count, expected["total_found"])
    await second.locator("input").click()
    await wait_for_total(page, count)
    assert urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)["attributes.color"] == [value], page.url
    # The colour facet ignores its own choice: the other colours keep their counts.
    assert await colors.count() >= 2
    await page.reload()
    await expect(page.locator(f'#attribute-color input[value="{value}"]')).to_be_checked(timeout=TIMEOUT_MS)

    # Numbers: a range, from the link.
    await page.goto(f"{base}/?category=Electronics&attributes.screen_in.min=15")
    expected = api("/products/search", category="Electronics", filter="attributes.screen_in >= 15", limit=1)
    assert 0 < expected["total_found"], expected
    await wait_for_total(page, expected["total_found"])
    low = page.locator('#attribute-screen_in input[name="attributes.screen_in.min"]')
    await expect(low).to_have_value("15")
    high = page.locator('#attribute-screen_in input[name="attributes.screen_in.max"]')
    await high.fill("16")
    await high.press("Enter")
    expected = api("/products/search", category="Electronics", filter="attributes.screen_in 15 TO 16", limit=1)
    await wait_for_total(page, expected["total_found"])
    assert "attributes.screen_in.max=16" in page.url, page.url
    await page.locator("#clear-filters").click()
    await expect(page.locator("#attribute-screen_in")).to_have_count(0, timeout=TIMEOUT_MS)
    assert "attributes." not in page.url, page.url


async def test_paging_forward_and_back(page: Page):
    await page.goto(f"{base}/?q=alpha")
    await expect(page.locator("#hits li").first).to_be_visible(timeout=TIMEOUT_MS)
    first_page = await hit_names(page)
    await page.locator("#next").click()
    await expect(page.locator("#page-info")).to_contain_text("Page 2 of", timeout=TIMEOUT_MS)
    expected = api("/products/search", q="alpha", limit=20, offset=20)
    await expect(page.locator("#hits li h2").first).to_have_text(expected["products"][0]["name"], timeout=TIMEOUT_MS)
    second_page = await hit_names(page)
    assert second_page == [p["name"] for p in expected["products"]]
    assert second_page != first_page
    assert "page=2" in page.url, page.url
    await page.go_back()
    await expect(page.locator("#page-info")).to_contain_text("Page 1 of", timeout=TIMEOUT_MS)
    await expect(page.locator("#hits li h2").first).to_have_text(first_page[0], timeout=TIMEOUT_MS)


async def test_a_shared_link_opens_the_same_results(page: Page):
    link = f"{base}/?q=headphones&category=Electronics&page=2"
    expected = api("/products/search", q="headphones", category="Electronics", limit=20, offset=20)
    assert expected["products"], "the shared search should have a second page"
    await page.goto(link)
    await expect(page.locator("#q")).to_have_value("headphones")
    await wait_for_total(page, expected["total_found"])
    await expect(page.locator("#page-info")).to_contain_text("Page 2 of")
    await expect(page.locator('#category-facet input[value="Electronics"]')).to_be_checked()
    assert await hit_names(page) == [p["name"] for p in expected["products"]]


async def test_a_query_without_results_says_so(page: Page):
    await page.goto(f"{base}/")
    await page.locator("#q").fill("qqxzzv")
    await expect(page.locator("#message")).to_contain_text("No products match “qqxzzv”", timeout=TIMEOUT_MS)
    assert await page.locator("#hits li").count() == 0
    await wait_for_total(page, 0)


async def test_a_word_no_product_has_is_let_go_and_the_page_says_so(page: Page):
    await page.goto(f"{base}/?q=wireless+headphones+cheapest")
    await expect(page.locator("#message")).to_contain_text("need not match “cheapest”", timeout=TIMEOUT_MS)
    expected = api("/products/search", q="wireless headphones cheapest", limit=20)
    assert expected["matching"] == "partial" and expected["total_found"] > 0, expected["not_required"]
    await wait_for_total(page, expected["total_found"])


async def test_opening_a_result_shows_its_details_and_counts_one_click(page: Page):
    """Only this test opens results, on a query no other test searches."""
    await page.goto(f"{base}/?q=walnut")
    expected = api("/products/search", q="walnut", limit=20)
    assert len(expected["products"]) >= 2, "walnut should find a few products"
    hits = page.locator("#hits li")
    await expect(hits.nth(1).locator("h2")).to_have_text(expected["products"][1]["name"], timeout=TIMEOUT_MS)
    second = hits.nth(1)
    await second.locator("button.open").click()
    await expect(second.locator(".details")).to_be_visible()
    await expect(second.locator(".details")).to_contain_text(str(expected["products"][1]["product_id"]))
    await expect(second.locator("button.open")).to_have_attribute("aria-expanded", "true")
    # Closed and opened again: still one click.
    await second.locator("button.open").click()
    await expect(second.locator(".details")).to_be_hidden()
    await second.locator("button.open").click()
    deadline = time.monotonic() + 10
    while True:
        report = api("/analytics/queries", kind="top", limit=1000)
        row = next((r for r in report["queries"] if r["query"] == "walnut"), None)
        if row and row["clicks"] >= 1:
            break
        assert time.monotonic() < deadline, f"the click never reached the analytics: {row}"
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # five flushes: a second click would show by now
    products = api("/analytics/products")["products"]
    assert products == [{"product_id": expected["products"][1]["product_id"], "clicks": 1, "conversions": 0}], products
    row = next(r for r in api("/analytics/queries", kind="top", limit=1000)["queries"] if r["query"] == "walnut")
    assert (row["clicks"], row["average_click_position"]) == (1, 2.0), row


async def test_suggestions_show_under_the_box_as_the_shopper_types(page: Page):
    await page.goto(f"{base}/")
    await page.locator("#q").press_sequentially("elec", delay=40)
    expected = [s["query"] for s in api("/suggestions", q="elec", limit=8)["suggestions"]]
    assert expected and all(q.startswith("elec") for q in expected), expected
    options = page.locator("#suggestions option")
    await expect(options).to_have_count(len(expected), timeout=TIMEOUT_MS)
    values = await options.evaluate_all("(options) => options.map((o) => o.value)")
    assert values == expected, values


async def test_readable_on_a_phone_width_screen(page: Page):
    await page.set_viewport_size({"width": 375, "height": 800})
    await page.goto(f"{base}/?q=desk+lamp")
    await expect(page.locator("#hits li").first).to_be_visible(timeout=TIMEOUT_MS)
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the screen"
    # Every control has a name a screen reader can read.
    unnamed = await page.evaluate(
        """[...document.querySelectorAll('input, select, button')]
            .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.textContent.trim())
            .map((el) => el.outerHTML)"""
    )
    assert unnamed == [], unnamed


TESTS = [
    test_typing_key_by_key_shows_results_of_the_last_query,
    test_ticking_a_facet_narrows_the_total_to_its_count,
    test_an_attribute_facet_filters_and_stays_in_the_link,
    test_paging_forward_and_back,
    test_a_shared_link_opens_the_same_results,
    test_a_query_without_results_says_so,
    test_a_word_no_product_has_is_let_go_and_the_page_says_so,
    test_opening_a_result_shows_its_details_and_counts_one_click,
    test_suggestions_show_under_the_box_as_the_shopper_types,
    test_readable_on_a_phone_width_screen,
]


async def main():
    failed = 0
    async with async_playwright() as playwright:
        with tempfile.TemporaryDirectory() as profile:
            browser = await playwright.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=FLAGS,
                viewport={"width": 1280, "height": 900},
            )
            for test in TESTS:
                page = await browser.new_page()
                errors = []
                page.on("pageerror", lambda error: errors.append(str(error)))
                started = time.monotonic()
                try:
                    await test(page)
                    assert not errors, f"script errors: {errors}"
                    print(f"ok   {test.__name__} ({time.monotonic() - started:.1f} s)")
                except Exception:
                    failed += 1
                    print(f"FAIL {test.__name__}")
                    traceback.print_exc()
                finally:
                    await page.screenshot(path=str(output / f"{test.__name__.removeprefix('test_')}.png"), full_page=True)
                    await page.close()
            await browser.close()
    print(f"{len(TESTS) - failed} of {len(TESTS)} browser tests passed; screenshots in {output}")
    return 1 if failed else 0


sys.exit(asyncio.run(main()))
