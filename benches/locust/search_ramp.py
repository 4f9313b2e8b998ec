"""The search run of the ECS-versus-LocalStack report: users searching continuously with
realistic queries; run it with 50 users spawned 3 per second (the runner's defaults).
Every user sends queries a shopper would: a brand and product type, half-typed words, a
typo, a category browse with a price cap."""
import random

from locust import FastHttpUser, between, task

from checks import search_ok

BRANDS = ["Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Eta", "Theta", "Northwind", "Acme"]
TYPES = ["headphones", "speaker", "laptop", "tent", "backpack", "jacket", "sneaker", "blender",
         "kettle", "puzzle", "candle", "rug", "notebook", "printer", "leash"]
CATEGORIES = ["Electronics", "Books", "Home", "Garden", "Sports", "Toys", "Clothing", "Food"]


def query():
    kind = random.random()
    if kind < 0.5:
        return f"q={random.choice(BRANDS)}+{random.choice(TYPES)}"
    if kind < 0.7:
        word = random.choice(TYPES)
        return f"q={word[: max(2, len(word) * 2 // 3)]}"
    if kind < 0.85:
        word = random.choice(TYPES)
        i = random.randrange(1, len(word) - 1)
        return f"q={word[:i]}{word[i + 1:]}"
    return f"category={random.choice(CATEGORIES)}&max_price={random.choice([25, 50, 100, 250])}&sort=price_asc"


class SearchUser(FastHttpUser):
    wait_time = between(0, 0.05)

    @task
    def search(self):
        with self.client.get(f"/products/search?{query()}", name="/products/search", catch_response=True) as r:
            search_ok(r)
