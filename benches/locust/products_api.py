"""The product API mix of the transcripts: each user first writes details for its share of
products 1..1000 (reported as "POST /products/{id}/details (seed)"), then reads products
nine times for every write. Two user classes, the same plan: ProductApiHttpUser (Python
requests) and ProductApiFastUser (geventhttpclient); pick one on the command line."""
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
