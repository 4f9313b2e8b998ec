"""The product API mix of the transcripts: each user first writes details for its share of
products 1..1000 (reported as "POST /products/{id}/details (seed)"), then reads products
nine times for every write. Two user classes, the same plan: ProductApiHttpUser (Python
requests) and ProductApiFastUser (geventhttpclient); pick one on the command line.

ReadYourWritesUser checks what a client behind a load balancer sees: it replaces a product
of its own, then reads it back with the write's version in `min-catalog-version`; an
answer with the old value is a failure, whichever replica gave it."""
import itertools
import json
import random

from locust import FastHttpUser, HttpUser, TaskSet, between, task

from checks import no_content_ok, product_ok

SEEDED = 1000


def details(product_id):
    return {
        "product_id": product_id,
        # One SKU per product, so rewriting a product never collides with another.
        "sku": f"LOAD-{product_id:06d}",
        "manufacturer": "Acme Corporation",
        "category_id": 456,
        "weight": random.randint(100, 5000),
        "some_other_id": random.randint(1, 1000),
    }


class ProductApi(TaskSet):
    """The plan, shared by both user classes; `self.client` is the user's client."""

    def on_start(self):
        for product_id in random.sample(range(1, SEEDED + 1), 10):
            self.post_details(product_id, name="/products/{id}/details (seed)")

    def post_details(self, product_id, name="/products/{id}/details"):
        with self.client.post(f"/products/{product_id}/details", json=details(product_id), name=name,
                              catch_response=True) as r:
            no_content_ok(r)

    @task(9)
    def get_product(self):
        product_id = random.randint(1, SEEDED)
        with self.client.get(f"/products/{product_id}", name="/products/{id}", catch_response=True) as r:
            product_ok(r, product_id)

    @task(1)
    def write_details(self):
        self.post_details(random.randint(1, SEEDED))


class ProductApiHttpUser(HttpUser):
    tasks = [ProductApi]
    wait_time = between(0.5, 1.5)


class ProductApiFastUser(FastHttpUser):
    tasks = [ProductApi]
    wait_time = between(0.5, 1.5)


_next_product = itertools.count(5001)


class ReadYourWritesUser(FastHttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self):
        # One product per user, above the plan's 1..1000, so users never overwrite each other.
        self.product_id = next(_next_product)
        self.round = 0

    @task
    def write_then_read(self):
        self.round += 1
        name = f"Read back {self.product_id} round {self.round}"
        body = {"product_id": self.product_id, "name": name, "sku": f"RYW-{self.product_id}"}
        with self.client.put(f"/products/{self.product_id}", json=body, name="/products/{id} (PUT)",
                             catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}: {(r.text or '')[:200]}")
                return
            r.success()
            version = r.headers.get("catalog-version")
        with self.client.get(f"/products/{self.product_id}", headers={"min-catalog-version": version},
                             name="/products/{id} (read back)", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}: {(r.text or '')[:200]}")
            elif json.loads(r.text).get("name") != name:
                r.failure(f"stale: version {version} asked, got {r.text[:200]}")
            else:
                r.success()
