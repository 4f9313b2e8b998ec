//! The fixed vocabulary the generator draws from: categories with their product types,
//! brands, adjectives, colours and materials. Fixed so that a seed means the same catalogue
//! in every release, and so that benchmarks can build labelled queries from it.

/// A product type within a category: the noun shoppers type, with plausible ranges.
#[derive(Debug, Clone, Copy)]
pub struct ProductType {
    /// Singular noun phrase, e.g. "headphones" or "desk lamp".
    pub noun: &'static str,
    /// Price range in whole currency units.
    pub price: (f64, f64),
    /// Weight range in grams.
    pub weight: (u64, u64),
    /// What the product is for, used in descriptions.
    pub purpose: &'static str,
}

/// A top-level category and the product types it holds.
#[derive(Debug, Clone, Copy)]
pub struct Category {
    pub id: u64,
    pub name: &'static str,
    pub types: &'static [ProductType],
    /// Adjectives that only make sense in this category.
    pub adjectives: &'static [&'static str],
    /// What products of this category are made from, for descriptions.
    pub materials: &'static [&'static str],
    /// Whether a colour is part of how these products are described.
    pub coloured: bool,
}

const fn t(noun: &'static str, price: (f64, f64), weight: (u64, u64), purpose: &'static str) -> ProductType {
    ProductType { noun, price, weight, purpose }
}

pub const CATEGORIES: &[Category] = &[
    Category {
        id: 101,
        name: "Electronics",
        coloured: true,
        materials: &["aluminium", "recycled plastic", "carbon fibre", "tempered glass", "silicone"],
        adjectives: &["Wireless", "Bluetooth", "Smart", "Noise-Cancelling", "Rechargeable", "4K", "USB-C"],
        types: &[
            t("Headphones", (19.0, 399.0), (150, 400), "music on the move"),
            t("Speaker", (24.0, 499.0), (300, 4000), "filling a room with sound"),
            t("Keyboard", (19.0, 229.0), (400, 1200), "typing all day"),
            t("Mouse", (9.0, 149.0), (60, 160), "precise pointing"),
            t("Monitor", (99.0, 1299.0), (3000, 9000), "a sharp desktop view"),
            t("Charger", (9.0, 89.0), (50, 400), "fast charging at home"),
            t("Webcam", (29.0, 249.0), (80, 300), "clear video calls"),
            t("Router", (39.0, 449.0), (300, 1500), "fast home internet"),
            t("Smartwatch", (49.0, 699.0), (30, 80), "tracking workouts and notifications"),
            t("Tablet", (89.0, 1299.0), (300, 700), "reading and streaming"),
            t("Laptop", (299.0, 2999.0), (1000, 2800), "work and study"),
            t("Camera", (149.0, 2499.0), (300, 1500), "photos and video"),
        ],
    },
    Category {
        id: 102,
        name: "Books",
        coloured: false,
        materials: &["recycled paper", "cloth binding", "acid-free paper", "linen"],
        adjectives: &["Illustrated", "Paperback", "Hardcover", "Bestselling", "Annotated", "Collector's"],
        types: &[
            t("Novel", (6.0, 29.0), (200, 700), "a long weekend read"),
            t("Cookbook", (12.0, 49.0), (500, 1500), "cooking at home"),
            t("Biography", (9.0, 39.0), (300, 900), "learning about remarkable lives"),
            t("Atlas", (15.0, 79.0), (800, 2500), "exploring the world"),
            t("Guidebook", (9.0, 34.0), (200, 600), "planning a trip"),
            t("Textbook", (29.0, 199.0), (800, 2500), "studying a subject in depth"),
            t("Journal", (5.0, 29.0), (150, 500), "writing every day"),
            t("Comic", (4.0, 24.0), (100, 400), "an afternoon of fun"),
        ],
    },
    Category {
        id: 103,
        name: "Home",
        coloured: true,
        materials: &["organic cotton", "wool", "linen", "ceramic", "oak", "glass"],
        adjectives: &["Cozy", "Modern", "Rustic", "Minimalist", "Handmade", "Scented"],
        types: &[
            t("Blanket", (19.0, 149.0), (800, 2500), "chilly evenings on the sofa"),
            t("Pillow", (12.0, 89.0), (300, 1200), "a good night's sleep"),
            t("Candle", (6.0, 49.0), (150, 800), "a calm atmosphere"),
            t("Desk Lamp", (15.0, 159.0), (400, 2000), "reading late"),
            t("Curtain", (19.0, 129.0), (500, 2000), "privacy and shade"),
            t("Rug", (29.0, 499.0), (1000, 9000), "warming a bare floor"),
            t("Mirror", (24.0, 299.0), (1000, 8000), "brightening a hallway"),
            t("Vase", (9.0, 119.0), (300, 2500), "fresh flowers"),
            t("Towel", (7.0, 59.0), (200, 900), "the bathroom"),
        ],
    },
    Category {
        id: 104,
        name: "Kitchen",
        coloured: true,
        materials: &["stainless steel", "cast iron", "bamboo", "ceramic", "borosilicate glass"],
        adjectives: &["Non-Stick", "Stainless", "Dishwasher-Safe", "Cast-Iron", "Professional", "Compact"],
        types: &[
            t("Frying Pan", (15.0, 199.0), (800, 3000), "everyday cooking"),
            t("Knife", (9.0, 249.0), (80, 400), "precise slicing"),
            t("Blender", (29.0, 499.0), (1500, 5000), "smoothies and soups"),
            t("Kettle", (19.0, 149.0), (900, 1800), "tea and coffee"),
            t("Coffee Maker", (29.0, 899.0), (1500, 9000), "the morning cup"),
            t("Cutting Board", (9.0, 79.0), (500, 2500), "meal preparation"),
            t("Mixing Bowl", (6.0, 49.0), (200, 1500), "baking"),
            t("Toaster", (19.0, 199.0), (1000, 3500), "breakfast"),
        ],
    },
    Category {
        id: 105,
        name: "Garden",
        coloured: true,
        materials: &["galvanised steel", "recycled plastic", "cedar", "terracotta", "rubber"],
        adjectives: &["Weatherproof", "Solar", "Heavy-Duty", "Foldable", "Organic", "Cordless"],
        types: &[
            t("Hose", (15.0, 99.0), (1000, 6000), "watering the garden"),
            t("Planter", (9.0, 149.0), (500, 9000), "herbs and flowers"),
            t("Lawn Mower", (129.0, 999.0), (9000, 40000), "a tidy lawn"),
            t("Garden Light", (9.0, 89.0), (100, 900), "lighting the path at night"),
            t("Shovel", (15.0, 79.0), (1200, 3000), "digging beds"),
            t("Pruner", (9.0, 69.0), (150, 500), "shaping shrubs"),
            t("Bird Feeder", (9.0, 59.0), (300, 1500), "visiting birds"),
            t("Seed Kit", (5.0, 39.0), (50, 400), "growing from scratch"),
        ],
    },
    Category {
        id: 106,
        name: "Sports",
        coloured: true,
        materials: &["ripstop nylon", "neoprene", "carbon fibre", "recycled polyester", "natural rubber"],
        adjectives: &["Lightweight", "Breathable", "Waterproof", "Adjustable", "Pro", "Shock-Absorbing"],
        types: &[
            t("Running Shoe", (39.0, 249.0), (200, 400), "road and trail running"),
            t("Yoga Mat", (12.0, 129.0), (800, 2500), "stretching and yoga"),
            t("Dumbbell", (9.0, 299.0), (1000, 25000), "strength training"),
            t("Tennis Racket", (29.0, 299.0), (250, 350), "the tennis court"),
            t("Bicycle Helmet", (29.0, 249.0), (200, 450), "safe cycling"),
            t("Water Bottle", (7.0, 49.0), (100, 450), "staying hydrated"),
            t("Backpack", (19.0, 249.0), (400, 2000), "hiking and commuting"),
            t("Football", (9.0, 149.0), (400, 450), "a match in the park"),
            t("Tent", (49.0, 899.0), (1200, 9000), "camping under the stars"),
        ],
    },
    Category {
        id: 107,
        name: "Toys",
        coloured: true,
        materials: &["beech wood", "non-toxic plastic", "plush fabric", "recycled cardboard", "silicone"],
        adjectives: &["Educational", "Wooden", "Interactive", "Plush", "Remote-Control", "Magnetic"],
        types: &[
            t("Puzzle", (6.0, 49.0), (200, 1200), "rainy afternoons"),
            t("Building Set", (12.0, 199.0), (300, 3000), "young builders"),
            t("Doll", (9.0, 89.0), (150, 800), "imaginative play"),
            t("Toy Car", (7.0, 129.0), (100, 1500), "racing around the living room"),
            t("Board Game", (12.0, 79.0), (500, 2000), "family game night"),
            t("Teddy Bear", (9.0, 69.0), (200, 900), "bedtime cuddles"),
            t("Drone", (39.0, 399.0), (150, 900), "flying outdoors"),
            t("Kite", (9.0, 59.0), (100, 500), "windy days at the beach"),
        ],
    },
    Category {
        id: 108,
        name: "Clothing",
        coloured: true,
        materials: &["organic cotton", "merino wool", "denim", "recycled polyester", "linen", "cashmere"],
        adjectives: &["Slim-Fit", "Organic Cotton", "Waterproof", "Insulated", "Vintage", "Stretch"],
        types: &[
            t("Jacket", (39.0, 499.0), (500, 2000), "cold and wet days"),
            t("T-Shirt", (9.0, 59.0), (120, 250), "everyday wear"),
            t("Jeans", (29.0, 199.0), (500, 900), "casual outings"),
            t("Sweater", (29.0, 249.0), (300, 900), "layering in winter"),
            t("Dress", (29.0, 299.0), (200, 700), "special occasions"),
            t("Sock", (4.0, 29.0), (40, 120), "all-day comfort"),
            t("Hat", (9.0, 79.0), (60, 250), "sun and cold"),
            t("Scarf", (12.0, 129.0), (100, 400), "windy mornings"),
            t("Sneaker", (39.0, 229.0), (500, 1000), "city walks"),
        ],
    },
    Category {
        id: 109,
        name: "Food",
        coloured: false,
        materials: &[
            "fair-trade ingredients",
            "organic ingredients",
            "single-origin produce",
            "cold-pressed olives",
        ],
        adjectives: &["Organic", "Gluten-Free", "Roasted", "Spicy", "Sugar-Free", "Artisan"],
        types: &[
            t("Coffee Beans", (6.0, 49.0), (250, 1000), "a rich morning brew"),
            t("Green Tea", (4.0, 29.0), (50, 500), "a quiet afternoon"),
            t("Olive Oil", (6.0, 39.0), (500, 1000), "salads and cooking"),
            t("Chocolate", (2.0, 24.0), (80, 500), "an indulgent treat"),
            t("Pasta", (2.0, 12.0), (500, 1000), "quick dinners"),
            t("Honey", (5.0, 29.0), (250, 1000), "sweetening tea"),
            t("Granola", (4.0, 15.0), (300, 1000), "breakfast bowls"),
            t("Hot Sauce", (3.0, 19.0), (150, 400), "adding heat to any dish"),
        ],
    },
    Category {
        id: 110,
        name: "Beauty",
        coloured: false,
        materials: &["plant extracts", "shea butter", "aloe vera", "argan oil"],
        adjectives: &["Hydrating", "Fragrance-Free", "Vegan", "Travel-Size", "Natural", "Nourishing"],
        types: &[
            t("Shampoo", (4.0, 39.0), (250, 1000), "healthy hair"),
            t("Moisturizer", (8.0, 89.0), (50, 300), "soft skin"),
            t("Lipstick", (6.0, 49.0), (10, 40), "a bold look"),
            t("Perfume", (19.0, 249.0), (100, 400), "a signature scent"),
            t("Hair Dryer", (19.0, 399.0), (400, 900), "quick styling"),
            t("Sunscreen", (6.0, 39.0), (100, 300), "sun protection"),
        ],
    },
    Category {
        id: 111,
        name: "Office",
        coloured: true,
        materials: &["recycled plastic", "steel", "walnut", "recycled paper", "mesh fabric"],
        adjectives: &["Ergonomic", "Refillable", "Adjustable", "Recycled", "Executive", "Magnetic"],
        types: &[
            t("Office Chair", (79.0, 999.0), (9000, 25000), "long hours at the desk"),
            t("Notebook", (3.0, 29.0), (100, 500), "taking notes"),
            t("Fountain Pen", (9.0, 299.0), (15, 60), "elegant handwriting"),
            t("Desk Organizer", (9.0, 69.0), (300, 1500), "a tidy workspace"),
            t("Printer", (69.0, 699.0), (4000, 15000), "printing at home"),
            t("Standing Desk", (199.0, 1299.0), (20000, 45000), "working on your feet"),
            t("Stapler", (5.0, 39.0), (150, 600), "paperwork"),
        ],
    },
    Category {
        id: 112,
        name: "Pet Supplies",
        coloured: true,
        materials: &["durable nylon", "memory foam", "natural rubber", "stainless steel", "sisal"],
        adjectives: &["Chew-Proof", "Washable", "Orthopedic", "Grain-Free", "Reflective", "Calming"],
        types: &[
            t("Dog Bed", (19.0, 199.0), (800, 5000), "restful naps"),
            t("Cat Tree", (39.0, 299.0), (5000, 25000), "climbing and scratching"),
            t("Leash", (7.0, 49.0), (100, 400), "daily walks"),
            t("Pet Bowl", (5.0, 39.0), (150, 900), "mealtimes"),
            t("Dog Food", (12.0, 89.0), (1000, 15000), "balanced nutrition"),
            t("Cat Toy", (3.0, 24.0), (20, 200), "playful cats"),
        ],
    },
];

/// Brands: the Greek-letter brands older clients search for, then invented ones.
pub const BRANDS: &[&str] = &[
    "Alpha",
    "Beta",
    "Gamma",
    "Delta",
    "Epsilon",
    "Zeta",
    "Eta",
    "Theta",
    "Northwind",
    "Acme",
    "Lumen",
    "Vertex",
    "Orbit",
    "Kestrel",
    "Aurora",
    "Summit",
    "Nimbus",
    "Pioneer",
    "Harbor",
    "Cobalt",
    "Evergreen",
    "Falcon",
    "Granite",
    "Horizon",
    "Ironwood",
    "Juniper",
    "Meridian",
    "Nova",
    "Oakridge",
    "Polaris",
    "Quartz",
    "Redwood",
    "Sierra",
    "Tidewater",
    "Umbra",
    "Vista",
];

/// Adjectives that fit any product.
pub const ADJECTIVES: &[&str] = &[
    "Premium",
    "Classic",
    "Essential",
    "Deluxe",
    "Compact",
    "Portable",
    "Durable",
    "Everyday",
    "Elegant",
    "Sturdy",
    "Eco-Friendly",
    "Ultra",
    "Signature",
    "Heritage",
    "Advanced",
    "Basic",
];

pub const COLOURS: &[&str] = &[
    "Black", "White", "Red", "Blue", "Green", "Silver", "Grey", "Navy", "Beige", "Brown", "Pink", "Purple",
    "Orange", "Yellow", "Teal", "Charcoal", "Ivory", "Olive", "Gold", "Burgundy",
];

/// Prefixes of model designations, as in "Pro 300" or "X5".
pub const MODEL_SERIES: &[&str] =
    &["X", "Pro", "Max", "Lite", "Air", "Neo", "Plus", "One", "S", "Ultra", "Go", "Edge"];

/// The category and product type a generated product was built from, read back from its
/// category and name; `None` for products the generator did not make.
pub fn classify(category: &str, name: &str) -> Option<(&'static Category, &'static ProductType)> {
    let category = CATEGORIES.iter().find(|c| c.name == category)?;
    let kind = category
        .types
        .iter()
        .filter(|t| name.contains(&format!(" {} ", t.noun)))
        .max_by_key(|t| t.noun.len())?;
    Some((category, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_every_generated_product() {
        for p in crate::generate(3, 2_000) {
            let (category, kind) =
                classify(p.category.as_deref().unwrap(), p.name.as_deref().unwrap()).unwrap();
            assert_eq!(Some(category.id), p.category_id);
            assert!(p.name.unwrap().contains(kind.noun));
        }
    }
}
