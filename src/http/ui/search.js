// The search page: its whole state lives in the URL (q, category, brand, min_price,
// max_price, sort, page, and per filterable attribute its chosen values,
// `attributes.color=red`, or its range, `attributes.screen_in.min=13`), so a search can be
// shared as a link and the back button works. Attribute choices reach the API as one
// `filter` expression; which attributes get a facet is read from `GET /settings`.
// Typing searches after a short pause; an answer to an older query is never shown over a
// newer one (older requests are aborted, and a late answer is dropped by its number).
"use strict";

const PAGE_SIZE = 20;
const MAX_WINDOW = 1000; // offset + limit the API allows
const TYPING_PAUSE_MS = 150;
const MAX_ATTRIBUTE_FACETS = 20; // attributes one search may ask facets of
const ATTRIBUTE_VALUE = /^attributes\.([a-z0-9_]{1,64})$/;
const ATTRIBUTE_BOUND = /^attributes\.([a-z0-9_]{1,64})\.(min|max)$/;

// The server writes a search-only key here when searches need one.
const SEARCH_KEY = document.querySelector('meta[name="search-key"]')?.content || "";
const API_HEADERS = SEARCH_KEY ? { Authorization: `Bearer ${SEARCH_KEY}` } : {};

const $ = (id) => document.getElementById(id);
const els = {
  q: $("q"),
  suggestions: $("suggestions"),
  form: $("search-form"),
  status: $("status"),
  message: $("message"),
  hits: $("hits"),
  pager: $("pager"),
  prev: $("prev"),
  next: $("next"),
  pageInfo: $("page-info"),
  sort: $("sort"),
  categories: document.querySelector("#category-facet .values"),
  brands: document.querySelector("#brand-facet .values"),
  priceForm: $("price-form"),
  minPrice: $("min-price"),
  maxPrice: $("max-price"),
  clear: $("clear-filters"),
  results: $("results"),
  attributeFacets: $("attribute-facets"),
};

// The filterable attributes, by name (without `attributes.`), as the settings list them.
let attributeNames = [];

let state = readUrl();
let latest = 0; // number of the newest search sent
let inFlight = null; // its AbortController
let typingTimer = null;
let typing = false; // the last history entry was made by typing, and typing goes on

function readUrl() {
  const params = new URLSearchParams(location.search);
  const page = Number.parseInt(params.get("page") || "1", 10);
  return {
    q: params.get("q") || "",
    category: params.getAll("category"),
    brand: params.getAll("brand"),
    min_price: params.get("min_price") || "",
    max_price: params.get("max_price") || "",
    sort: params.get("sort") || "relevance",
    page: Number.isFinite(page) && page >= 1 ? page : 1,
    attrs: readAttributes(params),
  };
}

// Chosen attribute values (`{color: ["red"]}`) and bounds (`{screen_in: {min: "13"}}`).
function readAttributes(params) {
  const attrs = { values: {}, bounds: {} };
  for (const [key, value] of params) {
    const chosen = ATTRIBUTE_VALUE.exec(key);
    const bound = ATTRIBUTE_BOUND.exec(key);
    if (chosen && value) (attrs.values[chosen[1]] ||= []).push(value);
    else if (bound && value.trim() !== "" && Number.isFinite(Number(value))) {
      (attrs.bounds[bound[1]] ||= {})[bound[2]] = value.trim();
    }
  }
  return attrs;
}

function hasAttributeFilters(s) {
  return Object.keys(s.attrs.values).length > 0 || Object.keys(s.attrs.bounds).length > 0;
}

// The attribute choices as a filter expression: one condition per attribute, so each
// attribute's facet keeps counting its other values.
function attributeFilter(s) {
  const quote = (value) => `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  const conditions = [];
  for (const [name, values] of Object.entries(s.attrs.values)) {
    conditions.push(`attributes.${name} IN [${values.map(quote).join(", ")}]`);
  }
  for (const [name, { min, max }] of Object.entries(s.attrs.bounds)) {
    if (min !== undefined) conditions.push(`attributes.${name} >= ${Number(min)}`);
    if (max !== undefined) conditions.push(`attributes.${name} <= ${Number(max)}`);
  }
  return conditions.join(" AND ");
}

function pageQuery(s) {
  const params = new URLSearchParams();
  if (s.q) params.set("q", s.q);
  for (const c of s.category) params.append("category", c);
  for (const b of s.brand) params.append("brand", b);
  if (s.min_price) params.set("min_price", s.min_price);
  if (s.max_price) params.set("max_price", s.max_price);
  if (s.sort !== "relevance") params.set("sort", s.sort);
  if (s.page > 1) params.set("page", String(s.page));
  for (const [name, values] of Object.entries(s.attrs.values)) {
    for (const value of values) params.append(`attributes.${name}`, value);
  }
  for (const [name, bounds] of Object.entries(s.attrs.bounds)) {
    for (const [end, value] of Object.entries(bounds)) params.set(`attributes.${name}.${end}`, value);
  }
  return params;
}

function hasFilters(s) {
  return (
    s.category.length > 0 || s.brand.length > 0 || s.min_price !== "" || s.max_price !== "" || hasAttributeFilters(s)
  );
}

// Records `next` as the page's state and searches: a new history entry, except that one
// burst of typing keeps updating the entry it began.
function go(next, { typed = false } = {}) {
  state = next;
  const query = pageQuery(state).toString();
  const url = query ? `/?${query}` : "/";
  if (typed && typing) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  typing = typed;
  search();
}

function showInputs() {
  if (els.q.value !== state.q) els.q.value = state.q;
  els.sort.value = state.sort;
  els.minPrice.value = state.min_price;
  els.maxPrice.value = state.max_price;
  els.clear.hidden = !hasFilters(state);
}

async function search() {
  showInputs();
  const number = ++latest;
  if (inFlight) inFlight.abort();
  inFlight = null;
  if (!state.q.trim() && !hasFilters(state)) {
    showIntro();
    return;
  }
  const params = pageQuery({ ...state, attrs: { values: {}, bounds: {} } });
  params.delete("page");
  params.set("limit", String(PAGE_SIZE));
  params.set("offset", String((state.page - 1) * PAGE_SIZE));
  const filter = attributeFilter(state);
  if (filter) params.set("filter", filter);
  const facets = ["category", "brand", "price", ...attributeNames.map((name) => `attributes.${name}`)];
  params.set("facets", facets.join(","));
  params.set("highlight", "true");
  const controller = new AbortController();
  inFlight = controller;
  document.body.classList.add("loading");
  let body;
  let ok = false;
  try {
    const response = await fetch(`/products/search?${params}`, {
      signal: controller.signal,
      headers: API_HEADERS,
    });
    ok = response.ok;
    body = await response.json();
  } catch (error) {
    if (error.name === "AbortError") return;
    body = { message: "The search service could not be reached." };
  }
  if (number !== latest) return; // a newer search owns the page
  inFlight = null;
  document.body.classList.remove("loading");
  if (!ok) showError(body);
  else showResults(body);
}

function showIntro() {
  document.body.classList.remove("loading");
  els.hits.replaceChildren();
  els.pager.hidden = true;
  els.status.textContent = "";
  renderFacet(els.categories, "category", null);
  renderFacet(els.brands, "brand", null);
  renderAttributeFacets({});
  els.minPrice.placeholder = "";
  els.maxPrice.placeholder = "";
  showMessage("Type to search the catalogue by name, brand, category, description or SKU.");
}

function showMessage(...lines) {
  els.message.replaceChildren(
    ...lines.map((line) => {
      const p = document.createElement("p");
      p.append(line);
      return p;
    }),
  );
  els.message.hidden = false;
}

function showError(body) {
  els.hits.replaceChildren();
  els.pager.hidden = true;
  els.status.textContent = "";
  showMessage(`The search failed: ${body && body.message ? body.message : "unknown error"}.`);
  els.message.setAttribute("role", "alert");
}

function showResults(body) {
  els.message.removeAttribute("role");
  const total = body.total_found;
  const facets = body.facets || {};
  renderFacet(els.categories, "category", facets.category);
  renderFacet(els.brands, "brand", facets.brand);
  renderAttributeFacets(facets);
  const price = facets.price;
  els.minPrice.placeholder = price ? price.min.toFixed(2) : "";
  els.maxPrice.placeholder = price ? price.max.toFixed(2) : "";

  const noun = total === 1 ? "product" : "products";
  els.status.textContent = `${total.toLocaleString("en")} ${noun} found in ${body.search_time}`;
  els.status.dataset.total = String(total);
  if (total === 0) {
    els.hits.replaceChildren();
    els.pager.hidden = true;
    const lines = [`No products match “${state.q.trim() || "these filters"}”.`];
    lines.push(hasFilters(state) ? "Try removing a filter, or fewer words." : "Check the spelling, or try fewer or more general words.");
    showMessage(...lines);
    return;
  }
  if (body.matching === "partial" && body.not_required.length > 0) {
    const dropped = body.not_required.map((w) => `“${w}”`).join(", ");
    showMessage(`No product matches every word: showing products that need not match ${dropped}.`);
  } else {
    els.message.hidden = true;
  }
  const first = (state.page - 1) * PAGE_SIZE + 1;
  els.hits.replaceChildren(...body.products.map((product, i) => renderHit(product, first + i, body.query_id)));
  const pages = Math.max(1, Math.ceil(Math.min(total, MAX_WINDOW) / PAGE_SIZE));
  els.pager.hidden = pages <= 1;
  els.pageInfo.textContent = `Page ${state.page} of ${pages.toLocaleString("en")}`;
  els.prev.disabled = state.page <= 1;
  els.next.disabled = state.page >= pages;
}

// A result's name opens its details; the first time, the click is reported to the
// search's analytics with the result's position (1: the first of the first page).
function renderHit(product, position, queryId) {
  const li = document.createElement("li");
  const highlights = product._highlights || {};
  const title = document.createElement("h2");
  const open = document.createElement("button");
  open.type = "button";
  open.className = "open";
  open.setAttribute("aria-expanded", "false");
  open.append(...marked(highlights.name, product.name || `Product ${product.product_id}`));
  title.append(open);
  const details = renderDetails(product);
  let reported = false;
  open.addEventListener("click", () => {
    details.hidden = !details.hidden;
    open.setAttribute("aria-expanded", String(!details.hidden));
    if (!details.hidden && !reported) {
      reported = true;
      sendClick(queryId, product.product_id, position);
    }
  });
  const meta = document.createElement("p");
  meta.className = "meta";
  const add = (text, className, label) => {
    const span = document.createElement("span");
    span.textContent = text;
    if (className) span.className = className;
    if (label) span.setAttribute("aria-label", label);
    meta.append(span);
  };
  if (product.price != null) add(product.price.toFixed(2), "price-tag", `Price ${product.price.toFixed(2)}`);
  if (product.rating != null) add(`★ ${product.rating.toFixed(1)}`, "", `Rated ${product.rating.toFixed(1)} out of 5`);
  if (product.in_stock != null) add(product.in_stock ? "In stock" : "Out of stock", product.in_stock ? "" : "out");
  if (product.brand) add(product.brand);
  if (product.category) add(product.category);
  if (product.sku) add(`SKU ${product.sku}`);
  li.append(title, meta);
  if (product.description) {
    const description = document.createElement("p");
    description.className = "description";
    description.append(...marked(highlights.description, product.description));
    li.append(description);
  }
  li.append(details);
  return li;
}

// The product's id and attributes, shown when its name is opened.
function renderDetails(product) {
  const details = document.createElement("dl");
  details.className = "details";
  details.hidden = true;
  const add = (name, value) => {
    const dt = document.createElement("dt");
    dt.textContent = name;
    const dd = document.createElement("dd");
    dd.textContent = Array.isArray(value) ? value.join(", ") : String(value);
    details.append(dt, dd);
  };
  add("Product", product.product_id);
  for (const [name, value] of Object.entries(product.attributes || {})) add(title(name), value);
  return details;
}

// Reports a click on a result; a lost report never gets in the shopper's way.
function sendClick(queryId, productId, position) {
  if (!queryId) return;
  fetch("/events", {
    method: "POST",
    keepalive: true,
    headers: { ...API_HEADERS, "Content-Type": "application/json" },
    body: JSON.stringify({ type: "click", query_id: queryId, product_id: productId, position }),
  }).catch(() => {});
}

// Nodes for a highlight: the server escapes the text and adds only <mark> and </mark>. It
// is rebuilt as text and <mark> elements rather than parsed as HTML.
function marked(highlight, plain) {
  if (!highlight) return [document.createTextNode(plain)];
  const nodes = [];
  const parts = highlight.split(/(<mark>|<\/mark>)/);
  let open = null;
  for (const part of parts) {
    if (part === "<mark>") open = document.createElement("mark");
    else if (part === "</mark>") {
      if (open) nodes.push(open);
      open = null;
    } else if (part) {
      const text = document.createTextNode(unescape(part));
      if (open) open.append(text);
      else nodes.push(text);
    }
  }
  if (open) nodes.push(open);
  return nodes;
}

function unescape(text) {
  return text.replace(/&(lt|gt|amp|quot);/g, (_, name) => ({ lt: "<", gt: ">", amp: "&", quot: '"' })[name]);
}

// Checkboxes with counts for the built-in facet `name` (category or brand).
function renderFacet(container, name, counts) {
  renderValues(container, name, state[name], counts, (values) => go({ ...state, [name]: values, page: 1 }));
}

// Checkboxes with counts. Chosen values stay listed even when the counts leave them out.
function renderValues(container, name, chosen, counts, choose) {
  const entries = counts ? Object.entries(counts) : [];
  for (const value of chosen) {
    if (!entries.some(([v]) => v.toLowerCase() === value.toLowerCase())) entries.push([value, 0]);
  }
  if (entries.length === 0) {
    const none = document.createElement("p");
    none.className = "none";
    none.textContent = counts ? "None" : "—";
    container.replaceChildren(none);
    return;
  }
  container.replaceChildren(
    ...entries.map(([value, count]) => {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.name = name;
      box.value = value;
      box.checked = chosen.some((c) => c.toLowerCase() === value.toLowerCase());
      box.addEventListener("change", () => {
        const rest = chosen.filter((c) => c.toLowerCase() !== value.toLowerCase());
        choose(box.checked ? [...rest, value] : rest);
      });
      const text = document.createElement("span");
      text.textContent = value;
      const number = document.createElement("span");
      number.className = "count";
      number.textContent = count.toLocaleString("en");
      label.append(box, text, number);
      return label;
    }),
  );
}

// A numbers' facet: `{"min": ..., "max": ...}` and nothing else.
function isRange(facet) {
  const keys = Object.keys(facet);
  return keys.length === 2 && typeof facet.min === "number" && typeof facet.max === "number";
}

function title(name) {
  const words = name.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// One fieldset per filterable attribute that the matching products have, or that is
// chosen: value checkboxes, or a from/to range for numbers.
function renderAttributeFacets(facets) {
  const sets = [];
  for (const name of attributeNames) {
    const facet = facets[`attributes.${name}`];
    const chosen = state.attrs.values[name] || [];
    const bounds = state.attrs.bounds[name] || {};
    const empty = !facet || Object.keys(facet).length === 0;
    if (empty && chosen.length === 0 && Object.keys(bounds).length === 0) continue;
    const set = document.createElement("fieldset");
    set.className = "facet";
    set.id = `attribute-${name}`;
    set.dataset.attribute = name;
    const legend = document.createElement("legend");
    legend.textContent = title(name);
    set.append(legend);
    if (facet && isRange(facet)) set.append(rangeForm(name, facet, bounds));
    else {
      const values = document.createElement("div");
      values.className = "values";
      renderValues(values, `attributes.${name}`, chosen, facet || {}, (next) => {
        const values = { ...state.attrs.values };
        if (next.length > 0) values[name] = next;
        else delete values[name];
        go({ ...state, attrs: { ...state.attrs, values }, page: 1 });
      });
      set.append(values);
    }
    sets.push(set);
  }
  els.attributeFacets.replaceChildren(...sets);
}

function rangeForm(name, range, bounds) {
  const form = document.createElement("form");
  form.className = "price";
  const input = (end, text) => {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "number";
    box.step = "any";
    box.name = `attributes.${name}.${end}`;
    box.value = bounds[end] || "";
    box.placeholder = String(range[end]);
    label.append(`${text} `, box);
    return [label, box];
  };
  const [fromLabel, from] = input("min", "From");
  const [toLabel, to] = input("max", "to");
  const apply = document.createElement("button");
  apply.type = "submit";
  apply.textContent = "Apply";
  form.append(fromLabel, toLabel, apply);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = {};
    if (from.value.trim() !== "") chosen.min = from.value.trim();
    if (to.value.trim() !== "") chosen.max = to.value.trim();
    const all = { ...state.attrs.bounds };
    if (Object.keys(chosen).length > 0) all[name] = chosen;
    else delete all[name];
    go({ ...state, attrs: { ...state.attrs, bounds: all }, page: 1 });
  });
  return form;
}

// Suggestions under the box as the shopper types: past queries that found products, then
// the catalogue's categories, brands and names. Only the answer to the latest text is shown.
let suggesting = 0;
async function suggest(text) {
  const number = ++suggesting;
  let suggestions = [];
  if (text.trim()) {
    try {
      const params = new URLSearchParams({ q: text, limit: "8" });
      const response = await fetch(`/suggestions?${params}`, { headers: API_HEADERS });
      if (response.ok) suggestions = (await response.json()).suggestions;
    } catch {
      // Suggestions are a help, never in the way: a failed one shows none.
    }
  }
  if (number !== suggesting) return;
  els.suggestions.replaceChildren(
    ...suggestions.map((s) => {
      const option = document.createElement("option");
      option.value = s.query;
      return option;
    }),
  );
}

els.q.addEventListener("input", () => {
  suggest(els.q.value);
  clearTimeout(typingTimer);
  typingTimer = setTimeout(() => go({ ...state, q: els.q.value, page: 1 }, { typed: true }), TYPING_PAUSE_MS);
});
els.q.addEventListener("blur", () => {
  typing = false;
});
els.form.addEventListener("submit", (event) => {
  event.preventDefault();
  clearTimeout(typingTimer);
  typing = false;
  if (els.q.value !== state.q) go({ ...state, q: els.q.value, page: 1 });
});
els.sort.addEventListener("change", () => go({ ...state, sort: els.sort.value, page: 1 }));
els.priceForm.addEventListener("submit", (event) => {
  event.preventDefault();
  go({ ...state, min_price: els.minPrice.value, max_price: els.maxPrice.value, page: 1 });
});
els.clear.addEventListener("click", () =>
  go({ ...state, category: [], brand: [], min_price: "", max_price: "", attrs: { values: {}, bounds: {} }, page: 1 }),
);
const turnPage = (delta) => {
  go({ ...state, page: state.page + delta });
  els.results.focus();
};
els.prev.addEventListener("click", () => turnPage(-1));
els.next.addEventListener("click", () => turnPage(1));
window.addEventListener("popstate", () => {
  typing = false;
  state = readUrl();
  search();
});

// The attributes to show facets for, then the first search. Without them (settings out of
// reach), the page still searches, with the built-in facets alone.
async function start() {
  try {
    const response = await fetch("/settings", { headers: API_HEADERS });
    if (response.ok) {
      const settings = await response.json();
      attributeNames = (settings.filterable_attributes || [])
        .map((name) => ATTRIBUTE_VALUE.exec(name))
        .filter(Boolean)
        .map((match) => match[1])
        .slice(0, MAX_ATTRIBUTE_FACETS);
    }
  } catch {
    attributeNames = [];
  }
  search();
}

start();
