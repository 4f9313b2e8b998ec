"""Response checks shared by the locustfiles: a request passes only when it is a 2xx with
the body the API promises, so a load test cannot count an error page as a success."""
import json


def _fail(response, why):
    response.failure(f"{response.status_code}: {why}")
    return False


def _json_2xx(response):
    """The parsed body of a 2xx answer; None (and the request marked failed) otherwise."""
    if not 200 <= response.status_code < 300:
        _fail(response, (response.text or "")[:200])
        return None
    try:
        return json.loads(response.text)
    except ValueError as error:
        _fail(response, f"not JSON: {error}")
        return None


def search_ok(response):
    """A 2xx search answer: products, an exact total, paging and timing."""
    body = _json_2xx(response)
    if body is None:
        return False
    products = body.get("products")
    if not isinstance(products, list) or not isinstance(body.get("total_found"), int):
        return _fail(response, "missing products or total_found")
    if len(products) > body.get("limit", 0) or any("product_id" not in p for p in products):
        return _fail(response, "malformed products")
    if "search_time" not in body:
        return _fail(response, "missing search_time")
    response.success()
    return True


def product_ok(response, product_id):
    """A 2xx product answer for this id."""
    body = _json_2xx(response)
    if body is None:
        return False
    if body.get("product_id") != product_id:
        return _fail(response, f"asked for {product_id}, got {body.get('product_id')}")
    response.success()
    return True


def no_content_ok(response):
    """A 204 with an empty body, as a details write answers."""
    if response.status_code != 204 or response.content:
        return _fail(response, (response.text or "")[:200])
    response.success()
    return True
