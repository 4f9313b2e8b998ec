//! Choosing a page among the matches of many lists: a short prefix completes to dozens of
//! words in six fields, and a window's bound, which adds every list's best in the window,
//! then lies far above any match and leaves nothing out. The lists are split by weight
//! instead (MaxScore, as Turtle and Flood describe it): no term scores more than its weight,
//! since BM25's frequency factor stays below 1, so the lowest-weighted lists, with every
//! tier they could earn, bound the score of a match found in none of the others. Once the
//! page's worst match scores above that bound, only the matches of the other lists, the
//! essential ones, can still enter the page.
//!
//! What the page's worst match will score is not known before scoring, so a floor under
//! it stands in: the highest-weighted lists (rare completions, short fields) are few and
//! read first, and what each gives its matches alone, with the tiers it earns, is a score
//! those matches reach at least. Where the split leaves too much to score, or no floor is
//! found, every match is scored as before. `the` in every description weighs next to
//! nothing and is never essential, so a search for `th` scores the products of its rarer
//! completions, not the whole catalogue.

use std::collections::HashMap;

use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, Score};

use super::doc_sets::{DocBits, gallop};
use super::scoring::SegmentScoring;
use super::{EXACT_TIER, List, SYNONYM_TIER, Tier};

impl SegmentScoring {
    /// A score the page's worst match will reach once `docs` are offered to a page of
    /// `size`: the `size`-th best, among the alive matches of the highest-weighted lists, of
    /// what one list alone gives each (its BM25 and the tier it earns, plus the least tier
    /// of every other required clause; every other term only adds). `None` when those lists
    /// hold fewer than `size` alive matches.
    pub(super) fn floor(
        &self,
        docs: &[DocId],
        size: usize,
        is_alive: &dyn Fn(DocId) -> bool,
    ) -> tantivy::Result<Option<Score>> {
        let Some(mut lists) = self.weighted_lists() else { return Ok(None) };
        lists.reverse();
        let word_tier = self.word_tier();
        let tier_of = |w: usize, t: usize| match self.words[w].terms[t].tier {
            Tier::Exact => EXACT_TIER,
            Tier::Synonym => SYNONYM_TIER,
            Tier::Near => 0.0,
        };
        // Every match earns at least the lowest tier of each required clause's terms.
        let least: Vec<Score> = (0..self.words.len())
            .map(|w| {
                let tiers = self.clauses[w].iter().flatten().map(|list| tier_of(w, list.term));
                if self.required[w] { tiers.fold(Score::INFINITY, Score::min) } else { 0.0 }
            })
            .collect();
        let base: Score = least.iter().filter(|tier| tier.is_finite()).sum();
        // Each match read costs a cache miss or two (its field's length, its place among
        // `docs`): a few per place on the page give a floor close enough.
        let wanted = 4 * size.max(64);
        let mut found: Vec<(DocId, Score)> = Vec::new();
        for list in lists {
            if found.len() >= wanted {
                break;
            }
            let clause = &self.words[list.word];
            let mut tier = base + tier_of(list.word, list.term);
            if self.required[list.word] {
                tier -= least[list.word];
            } else if list.term < clause.union {
                tier += word_tier;
            }
            let scorer = self.scorer(list);
            let mut block = list.blocks(IndexRecordOption::WithFreqs)?;
            let mut at = 0;
            // Any of a list's matches give a floor: a long list is read only as far as needed.
            while !block.docs().is_empty() && at < docs.len() && found.len() < wanted {
                for (&doc, &freq) in block.docs().iter().zip(block.freqs()) {
                    at = gallop(docs, at, doc);
                    if at < docs.len() && docs[at] == doc && is_alive(doc) {
                        found.push((doc, scorer.score(doc, freq) + tier));
                    }
                }
                block.advance();
            }
        }
        // A document of several lists counts once, at its best.
        found.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
        found.dedup_by_key(|(doc, _)| *doc);
        if size == 0 || found.len() < size {
            return Ok(None);
        }
        let mut scores: Vec<Score> = found.into_iter().map(|(_, score)| score).collect();
        let at = scores.len() - size;
        Ok(Some(*scores.select_nth_unstable_by(at, Score::total_cmp).1 / self.rounding()))
    }

    /// The matches among `docs` that may score at least `worst`: those of a list outside
    /// the lowest-weighted lists that together bound a match below it. `None` when the
    /// essential lists hold more products than half of `docs` (then nearly every match is
    /// essential), or seem to before they are read (below).
    pub(super) fn essential(&self, docs: &[DocId], worst: Score) -> tantivy::Result<Option<Vec<DocId>>> {
        let Some(lists) = self.weighted_lists() else { return Ok(None) };
        // Lowest weight first, each taken into the bounded lists while their bound stays
        // under the page's worst; one that would lift it there (a tier) is essential.
        let mut lower: Vec<Vec<bool>> =
            self.words.iter().map(|clause| vec![false; clause.terms.len()]).collect();
        let mut essential = Vec::new();
        let rounding = self.rounding();
        for list in lists {
            lower[list.word][list.term] = true;
            if self.bound_without(&lower) * rounding >= worst {
                lower[list.word][list.term] = false;
                essential.push(list);
            }
        }
        // Products, not postings: one word's lists in several fields (`pro` in names and in
        // descriptions) hold many of the same products, and their postings can outnumber
        // half the matches while their products do not. Reading the lists costs about what
        // the split saves, so they are read only when an estimate leaves room: each word
        // counted once, by its longest list (different words share fewer products).
        let mut longest: HashMap<&[u8], u32> = HashMap::new();
        for list in &essential {
            let word = self.words[list.word].terms[list.term].term.serialized_value_bytes();
            let postings = longest.entry(word).or_default();
            *postings = (*postings).max(list.posted.info.doc_freq);
        }
        if longest.values().map(|&postings| postings as usize).sum::<usize>() > docs.len() / 2 {
            return Ok(None);
        }
        let mut bits = DocBits::new(self.max_doc);
        for list in essential {
            bits.insert_list(list, self.memo.as_deref())?;
        }
        let products = bits.count();
        if products > docs.len() / 2 {
            return Ok(None);
        }
        // Every document of the segment matches (a prefix that completes to a word of every
        // description): the essential matches are the bitset's own, listed without a search.
        let listed = bits.docs_counted(products);
        if docs.len() == self.max_doc as usize {
            return Ok(Some(listed));
        }
        Ok(Some(matches_in(docs, &listed)))
    }

    /// Room left for rounding, as a factor: a match's score adds its terms and tiers in
    /// another order than a bound or a floor does, each addition off by at most half a unit
    /// in the last place, and a match adds at most one term per list and a tier per clause.
    fn rounding(&self) -> Score {
        let additions = self.clauses.iter().flatten().flatten().count() + 2 * self.words.len();
        1.0 + 4.0 * Score::EPSILON * additions as Score
    }

    /// Every list, lowest weight first and the longest first among equals; `None` if a
    /// weight is negative, where a list's weight bounds nothing.
    fn weighted_lists(&self) -> Option<Vec<&List>> {
        let weight = |list: &List| self.bm25.weights[list.word][list.term];
        let mut lists: Vec<&List> = self.clauses.iter().flatten().flatten().collect();
        if lists.iter().any(|list| weight(list).is_nan() || weight(list) < 0.0) {
            return None;
        }
        lists.sort_by(|a, b| {
            weight(a).total_cmp(&weight(b)).then(b.posted.info.doc_freq.cmp(&a.posted.info.doc_freq))
        });
        Some(lists)
    }

    /// A bound on the score of a match found in no list but those flagged in `lower` (per
    /// clause, by term position): each such list's weight, and the tiers its clause could
    /// earn through them.
    fn bound_without(&self, lower: &[Vec<bool>]) -> Score {
        let word_tier = self.word_tier();
        let mut bound = 0.0;
        for (w, clause) in self.words.iter().enumerate() {
            let mut sum = 0.0;
            let mut tier: Score = 0.0;
            let mut any = false;
            for list in self.clauses[w].iter().flatten().filter(|list| lower[w][list.term]) {
                any = true;
                sum += self.bm25.weights[w][list.term];
                tier = tier.max(match clause.terms[list.term].tier {
                    Tier::Exact => EXACT_TIER,
                    Tier::Synonym => SYNONYM_TIER,
                    Tier::Near => 0.0,
                });
            }
            if any {
                bound += sum + tier + if self.required[w] { 0.0 } else { word_tier };
            }
        }
        bound
    }
}

/// The documents of `listed` (ascending) that `docs` (ascending) holds.
fn matches_in(docs: &[DocId], listed: &[DocId]) -> Vec<DocId> {
    let mut found = Vec::new();
    let mut at = 0;
    for &doc in listed {
        at = gallop(docs, at, doc);
        if at == docs.len() {
            break;
        }
        if docs[at] == doc {
            found.push(doc);
        }
    }
    found
}

#[cfg(test)]
thread_local! {
    pub(super) static UNSCORED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// How many matches this thread's searches have left out unscored by splitting their lists.
#[cfg(test)]
pub fn matches_unscored() -> usize {
    UNSCORED.with(std::cell::Cell::get)
}

#[cfg(test)]
mod tests {
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use tantivy::query::{EnableScoring, Query};
    use tantivy::schema::{Field, Schema, TEXT};
    use tantivy::{DocSet, Index, IndexWriter, Term, doc};

    use super::super::{Clause, MatchScorer, WordTerm, WordsQuery};
    use super::*;

    /// 4,000 documents in two segments, of 16 words each more frequent than the next,
    /// up to four in a title and twelve in a body, repeats included.
    fn index() -> (Index, Field, Field) {
        let mut schema = Schema::builder();
        let title = schema.add_text_field("title", TEXT);
        let body = schema.add_text_field("body", TEXT);
        let index = Index::create_in_ram(schema.build());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut text = |most: usize| {
            (0..rng.random_range(1..=most))
                .map(|_| format!("w{}", rng.random_range(0..16usize).min(rng.random_range(0..16usize))))
                .collect::<Vec<_>>()
                .join(" ")
        };
        for _ in 0..2 {
            for i in 0..2_000 {
                // One body in fifty is one word twelve times, as close to its weight as BM25 gets.
                let body_text =
                    if i % 50 == 0 { vec![format!("w{}", i % 16); 12].join(" ") } else { text(12) };
                writer.add_document(doc!(title => text(4), body => body_text)).unwrap();
            }
            writer.commit().unwrap();
        }
        (index, title, body)
    }

    #[test]
    fn no_match_scores_above_the_bound_of_its_lists_nor_a_page_below_the_floor() {
        let (index, title, body) = index();
        let searcher = index.reader().unwrap().searcher();
        let term = |field: Field, word: &str, weight: Score, tier: Tier| WordTerm {
            term: Term::from_field_text(field, word),
            weight,
            tier,
        };
        // A word and its neighbours in both fields, each earning `tier`.
        let word = |words: std::ops::Range<usize>, tier: Tier| {
            Clause::any_of(
                words
                    .flat_map(|i| {
                        let word = format!("w{i}");
                        [term(title, &word, 3.0, tier), term(body, &word, 1.0, tier)]
                    })
                    .collect(),
            )
        };
        let mut mixed = word(0..1, Tier::Exact);
        mixed.terms.push(term(body, "w5", 0.9, Tier::Synonym));
        mixed.terms.extend((6..16).map(|i| term(title, &format!("w{i}"), 0.5, Tier::Near)));
        mixed.union = mixed.terms.len();
        let queries: Vec<(Vec<Clause>, Vec<bool>)> = vec![
            (vec![word(0..16, Tier::Near)], vec![true]),
            (vec![mixed.clone()], vec![true]),
            (vec![word(12..14, Tier::Exact), word(0..16, Tier::Near)], vec![true, true]),
            (vec![word(0..4, Tier::Synonym), mixed], vec![true, true]),
            (vec![word(0..16, Tier::Near), word(9..10, Tier::Exact)], vec![true, false]),
        ];
        for (clauses, required) in queries {
            let query = WordsQuery::of_clauses(clauses.into(), required.into());
            let weight = query.weight(EnableScoring::enabled_from_searcher(&searcher)).unwrap();
            for reader in searcher.segment_readers() {
                let mut scorer = weight.scorer(reader, 1.0).unwrap();
                let matches = scorer.downcast_mut::<MatchScorer>().unwrap();
                let scoring = matches.scoring.as_ref().unwrap();
                let scores = scoring.scores(&matches.docs).unwrap();
                // Each match's bound, through the lists that hold it.
                let lists: Vec<&List> = scoring.clauses.iter().flatten().flatten().collect();
                let mut holding: Vec<Vec<Vec<bool>>> = matches
                    .docs
                    .iter()
                    .map(|_| scoring.words.iter().map(|clause| vec![false; clause.terms.len()]).collect())
                    .collect();
                for list in &lists {
                    let mut postings = list.postings(IndexRecordOption::Basic).unwrap();
                    for (i, &doc) in matches.docs.iter().enumerate() {
                        if postings.doc() <= doc && postings.seek(doc) == doc {
                            holding[i][list.word][list.term] = true;
                        }
                    }
                }
                for (i, lower) in holding.iter().enumerate() {
                    let bound = scoring.bound_without(lower) * scoring.rounding();
                    assert!(
                        scores[i] <= bound,
                        "{} scores {} over its bound {bound}",
                        matches.docs[i],
                        scores[i]
                    );
                }
                // A page's worst match scores at least its floor.
                let mut best = scores.clone();
                best.sort_by(|a, b| b.total_cmp(a));
                for size in [1, 5, 20, 200] {
                    let floor =
                        scoring.floor(&matches.docs, size, &|_| true).unwrap().expect("enough matches");
                    assert!(
                        best[size - 1] >= floor,
                        "page of {size}: worst {} under floor {floor}",
                        best[size - 1]
                    );
                }
            }
        }
    }
}
