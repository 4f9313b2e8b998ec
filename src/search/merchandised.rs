//! A search under merchandising ([`super::Merchandising`]), in passes over one searcher:
//!
//! 1. The natural pass: the search without the hidden and the pinned products, its first
//!    `offset + limit` results, its total and its facets' raw counts.
//! 2. With a boost, the same words (the natural pass's plan, widened or not) again, once
//!    among the products the boost matches and once among the others: boosted products
//!    first, each part in the search's order.
//! 3. The pins: the pinned products the search's filters let through, whatever its words,
//!    with their facets' raw counts.
//!
//! The passes' sets are disjoint, so the total is their sum, and the facets their counts
//! added before they are cut to their top values: both stay exact for what is shown. Pins
//! take their positions, in order; the natural results fill the others.

use super::index::SearchIndex;
use super::merchandising::{Merchandising, Pin};
use super::query::{SearchHits, SearchRequest, Sort};

impl SearchIndex {
    pub(super) fn merchandised(&self, request: &SearchRequest) -> anyhow::Result<SearchHits> {
        let m = &request.merchandising;
        let pass = self.pass();
        let window = request.offset + request.limit;
        let pinned: Vec<u64> = m.pins.iter().map(|pin| pin.product_id).collect();

        let mut natural = request.clone();
        natural.merchandising = Merchandising::default();
        natural.scope.exclude = m.hidden.iter().chain(&pinned).copied().collect();
        natural.offset = 0;
        natural.limit = window;
        let mut found = self.find(&pass, &natural)?;

        if let Some(boost) = &m.boost {
            let part = |boosted: bool| {
                let mut part = natural.clone();
                part.scope.boosted = Some((boost.clone(), boosted));
                self.rerun(&pass, &found, &part)
            };
            let (mut order, boosted) = part(true)?;
            if order.len() < window {
                let (rest, others) = part(false)?;
                debug_assert_eq!(boosted + others, found.total, "the two parts split the natural set");
                order.extend(rest.into_iter().take(window - order.len()));
            }
            found.ids = order;
        }

        let mut shown_pins = Vec::new();
        if !pinned.is_empty() {
            let mut pins = request.clone();
            pins.merchandising = Merchandising::default();
            pins.text = String::new();
            pins.scope.exclude = m.hidden.clone();
            pins.scope.only = Some(pinned.clone());
            pins.offset = 0;
            pins.limit = pinned.len();
            pins.sort = Sort::Relevance;
            let pins_found = self.find(&pass, &pins)?;
            shown_pins =
                m.pins.iter().filter(|pin| pins_found.ids.contains(&pin.product_id)).copied().collect();
            found.total += pins_found.total;
            if let (Some(fruit), Some(theirs)) = (found.fruit.as_mut(), pins_found.fruit) {
                fruit.merge(theirs);
            }
        }

        let order = placed(&shown_pins, &found.ids, window);
        found.ids = order.into_iter().skip(request.offset).collect();
        Ok(found.hits(&request.facets))
    }
}

/// The first `window` results: each pin at its position (or the first free one after it),
/// the natural results in order around them, and pins past the natural results after them.
fn placed(pins: &[Pin], natural: &[u64], window: usize) -> Vec<u64> {
    let mut out = Vec::with_capacity(window);
    let mut natural = natural.iter().copied();
    let mut pins = pins.iter().peekable();
    while out.len() < window {
        let position = out.len() + 1;
        let next = match pins.peek() {
            Some(pin) if pin.position <= position => pins.next().map(|pin| pin.product_id),
            _ => natural.next().or_else(|| pins.next().map(|pin| pin.product_id)),
        };
        match next {
            Some(id) => out.push(id),
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin(product_id: u64, position: usize) -> Pin {
        Pin { product_id, position }
    }

    #[test]
    fn pins_take_their_positions_and_the_natural_order_fills_the_rest() {
        let natural = [10, 11, 12, 13];
        assert_eq!(placed(&[pin(1, 1), pin(2, 3)], &natural, 6), [1, 10, 2, 11, 12, 13]);
        assert_eq!(placed(&[pin(1, 2)], &natural, 3), [10, 1, 11]);
        // Past the natural results, pins follow them.
        assert_eq!(placed(&[pin(1, 9)], &natural[..2], 10), [10, 11, 1]);
        assert_eq!(placed(&[], &natural, 2), [10, 11]);
    }
}
