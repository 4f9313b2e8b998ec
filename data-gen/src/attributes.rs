//! The attributes a shop would give each product of a category: the colour and material
//! its name and description already speak of, and what shoppers of that category narrow
//! by (size, capacity, screen size, pages, dietary needs, ...), some with several values.

use product_model::{AttributeValue, Attributes};
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, RngExt};

use crate::taxonomy::{Category, ProductType};

const SIZES: &[&str] = &["XS", "S", "M", "L", "XL", "XXL"];
const SHOE_SIZES: &[u64] = &[36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46];

/// The attributes of a product of `category` and `kind`, described as `colour` (if the
/// category is) and made from `material`, drawn from `rng`.
pub fn attributes(
    rng: &mut impl Rng,
    category: &Category,
    kind: &ProductType,
    colour: Option<&str>,
    material: &str,
) -> Attributes {
    // No category gives a product more than six attributes.
    let mut pairs: Vec<(&str, AttributeValue)> = Vec::with_capacity(6);
    pairs.push(("material", text(material)));
    if let Some(colour) = colour {
        pairs.push(("color", AttributeValue::Text(colour.to_lowercase().into())));
    }
    let noun = kind.noun;
    match category.name {
        "Electronics" => {
            pairs.push(("wireless", AttributeValue::Bool(rng.random_bool(0.6))));
            pairs.push(("warranty_years", number(*[1, 2, 3].choose(rng).expect("years"))));
            if matches!(noun, "Monitor" | "Laptop" | "Tablet") {
                let screens: &[f64] = match noun {
                    "Monitor" => &[21.5, 24.0, 27.0, 32.0, 34.0],
                    "Laptop" => &[13.3, 14.0, 15.6, 16.0, 17.3],
                    _ => &[8.0, 10.2, 11.0, 12.9],
                };
                pairs.push(("screen_in", float(*screens.choose(rng).expect("screens"))));
            }
            if matches!(noun, "Laptop" | "Tablet" | "Smartwatch" | "Camera") {
                pairs.push((
                    "storage_gb",
                    number(*[32, 64, 128, 256, 512, 1024].choose(rng).expect("storage")),
                ));
            }
        }
        "Books" => {
            pairs.push(("pages", number(rng.random_range(80..=900))));
            pairs.push((
                "language",
                text(pick(rng, &["English", "English", "English", "French", "German", "Spanish"])),
            ));
            pairs.push((
                "formats",
                texts(some_of(rng, &["hardcover", "paperback", "ebook", "audiobook"], 1, 3)),
            ));
        }
        "Home" => {
            pairs.push((
                "room",
                texts(some_of(rng, &["living room", "bedroom", "bathroom", "hallway", "office"], 1, 2)),
            ));
            pairs.push(("machine_washable", AttributeValue::Bool(rng.random_bool(0.5))));
        }
        "Kitchen" => {
            pairs.push(("dishwasher_safe", AttributeValue::Bool(rng.random_bool(0.5))));
            if matches!(noun, "Blender" | "Kettle" | "Coffee Maker" | "Mixing Bowl") {
                pairs.push(("capacity_l", float(f64::from(rng.random_range(2u32..=12)) / 4.0)));
            }
            if matches!(noun, "Blender" | "Kettle" | "Coffee Maker" | "Toaster") {
                pairs.push(("power_w", number(rng.random_range(6..=30) * 100)));
            }
        }
        "Garden" => {
            if matches!(noun, "Lawn Mower" | "Garden Light") {
                pairs.push(("power_source", text(pick(rng, &["battery", "corded", "solar"]))));
            }
            pairs.push(("weatherproof", AttributeValue::Bool(rng.random_bool(0.7))));
        }
        "Sports" => {
            pairs.push(("level", text(pick(rng, &["beginner", "intermediate", "advanced"]))));
            match noun {
                "Running Shoe" => pairs.push(("shoe_size_eu", shoe_sizes(rng))),
                "Bicycle Helmet" => pairs.push(("size", texts(size_range(rng, &SIZES[1..5])))),
                "Dumbbell" => pairs
                    .push(("weight_kg", number(*[1, 2, 4, 5, 8, 10, 12, 16, 20].choose(rng).expect("kg")))),
                "Tent" => pairs.push(("sleeps", number(rng.random_range(1..=6)))),
                "Backpack" | "Water Bottle" => {
                    let litres: &[f64] =
                        if noun == "Backpack" { &[10.0, 20.0, 30.0, 45.0, 65.0] } else { &[0.5, 0.75, 1.0] };
                    pairs.push(("capacity_l", float(*litres.choose(rng).expect("litres"))));
                }
                _ => {}
            }
        }
        "Clothing" => {
            if noun == "Sneaker" {
                pairs.push(("shoe_size_eu", shoe_sizes(rng)));
            } else {
                pairs.push(("size", texts(size_range(rng, SIZES))));
            }
            pairs.push(("gender", text(pick(rng, &["women", "men", "unisex", "kids"]))));
        }
        "Toys" => {
            pairs.push(("age_min_years", number(*[0, 1, 3, 5, 8, 12].choose(rng).expect("ages"))));
            pairs.push(("batteries_included", AttributeValue::Bool(rng.random_bool(0.3))));
        }
        "Food" => {
            pairs.push(("organic", AttributeValue::Bool(rng.random_bool(0.4))));
            pairs.push(("net_weight_g", number(rng.random_range(1..=20) * 50)));
            let diets =
                some_of(rng, &["vegan", "vegetarian", "gluten-free", "lactose-free", "nut-free"], 0, 3);
            if !diets.is_empty() {
                pairs.push(("dietary", texts(diets)));
            }
        }
        "Beauty" => {
            pairs.push((
                "volume_ml",
                number(*[30, 50, 100, 200, 250, 400, 500].choose(rng).expect("volumes")),
            ));
            pairs.push((
                "skin_type",
                texts(some_of(rng, &["normal", "dry", "oily", "combination", "sensitive"], 1, 3)),
            ));
        }
        "Office" => {
            pairs.push(("pack_size", number(*[1, 1, 1, 2, 5, 10, 12, 24].choose(rng).expect("packs"))));
            pairs.push(("recycled", AttributeValue::Bool(rng.random_bool(0.35))));
        }
        "Pet Supplies" => {
            let pet = match noun {
                "Dog Bed" | "Dog Food" | "Leash" => vec!["dog"],
                "Cat Tree" | "Cat Toy" => vec!["cat"],
                _ => some_of(rng, &["dog", "cat", "rabbit", "small pets"], 1, 2),
            };
            pairs.push(("pet", texts(pet)));
            if matches!(noun, "Dog Bed" | "Leash") {
                pairs.push(("size", text(pick(rng, &["S", "M", "L", "XL"]))));
            }
        }
        _ => {}
    }
    Attributes::new(pairs)
}

fn text(value: &str) -> AttributeValue {
    AttributeValue::Text(value.into())
}

fn texts(values: Vec<&str>) -> AttributeValue {
    AttributeValue::Texts(values.into_iter().map(Box::from).collect())
}

fn number(value: u64) -> AttributeValue {
    AttributeValue::Number(value.into())
}

fn float(value: f64) -> AttributeValue {
    AttributeValue::Number(serde_json::Number::from_f64(value).expect("a finite number"))
}

/// Two to four neighbouring EU shoe sizes.
fn shoe_sizes(rng: &mut impl Rng) -> AttributeValue {
    let from = rng.random_range(0..SHOE_SIZES.len() - 4);
    let sizes = &SHOE_SIZES[from..from + rng.random_range(2..=4)];
    AttributeValue::Numbers(sizes.iter().map(|&size| size.into()).collect())
}

/// One or more neighbouring sizes of `sizes`.
fn size_range<'a>(rng: &mut impl Rng, sizes: &[&'a str]) -> Vec<&'a str> {
    let from = rng.random_range(0..sizes.len());
    let to = rng.random_range(from + 1..=sizes.len());
    sizes[from..to].to_vec()
}

fn pick<'a>(rng: &mut impl Rng, values: &[&'a str]) -> &'a str {
    values.choose(rng).expect("values are listed")
}

/// From `least` to `most` of `values`, in their listed order.
fn some_of<'a>(rng: &mut impl Rng, values: &[&'a str], least: usize, most: usize) -> Vec<&'a str> {
    // The positions are shuffled on the stack: no list here has more than eight values.
    let mut positions = [0, 1, 2, 3, 4, 5, 6, 7];
    let chosen = &mut positions[..values.len()];
    chosen.shuffle(rng);
    let chosen = &mut chosen[..rng.random_range(least..=most)];
    chosen.sort_unstable();
    chosen.iter().map(|&i| values[i]).collect()
}
