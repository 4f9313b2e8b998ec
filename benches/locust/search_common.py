"""Search with common terms and no wait between requests (FastHttpUser): how fast the
service answers what most shoppers type."""
import random

from locust import FastHttpUser, constant, task

from checks import search_ok

COMMON_TERMS = [
    "headphones", "wireless", "laptop", "shoes", "jacket", "coffee", "lamp", "alpha", "beta",
    "organic", "black", "speaker", "backpack", "tent", "chair", "blanket", "knife", "puzzle",
    "shampoo", "sneaker",
]


class CommonSearchUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def search(self):
        term = random.choice(COMMON_TERMS)
        with self.client.get(f"/products/search?q={term}", name="/products/search", catch_response=True) as r:
            search_ok(r)
