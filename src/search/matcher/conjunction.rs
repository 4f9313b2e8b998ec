//! The documents every required clause matches: bitsets while candidates are many, skips
//! through the lists' skip data once they are few.

use tantivy::DocId;
use tantivy::schema::IndexRecordOption;

use super::doc_sets::{DocBits, holds, walk};
use super::memo::ListMemo;
use super::{Clause, List, WordLists};

/// Which of `candidates` `clause` matches, found through the lists' skip data.
pub(super) fn clause_hits(
    clause: &Clause,
    lists: &[Option<List>],
    candidates: &[DocId],
) -> tantivy::Result<Vec<bool>> {
    let any_of = |range: std::ops::Range<usize>| -> tantivy::Result<Vec<bool>> {
        let mut hits = vec![false; candidates.len()];
        for list in lists[range].iter().flatten() {
            walk(&mut list.postings(IndexRecordOption::Basic)?, candidates, |i, _| hits[i] = true);
        }
        Ok(hits)
    };
    let mut hits = any_of(0..clause.union)?;
    for group in &clause.groups {
        let mut all = vec![true; candidates.len()];
        for part in group {
            let part_hits = any_of(part.clone())?;
            all.iter_mut().zip(part_hits).for_each(|(a, p)| *a &= p);
        }
        hits.iter_mut().zip(all).for_each(|(h, a)| *h |= a);
    }
    Ok(hits)
}

/// Every document of one segment that `clause` matches: any of its union's terms, or all
/// the parts of one of its groups. Reads the lists whole: clauses with groups are rare.
pub(super) fn clause_docs(
    clause: &Clause,
    lists: &[Option<List>],
    max_doc: DocId,
    memo: Option<&ListMemo>,
) -> tantivy::Result<DocBits> {
    let mut docs = DocBits::new(max_doc);
    for list in lists[..clause.union].iter().flatten() {
        docs.insert_list(list, memo)?;
    }
    for group in &clause.groups {
        let mut all: Option<DocBits> = None;
        for part in group {
            let mut any = DocBits::new(max_doc);
            for list in lists[part.clone()].iter().flatten() {
                any.insert_list(list, memo)?;
            }
            match &mut all {
                None => all = Some(any),
                Some(all) => all.intersect(&any),
            }
        }
        if let Some(all) = all {
            docs.union(&all);
        }
    }
    Ok(docs)
}

/// The documents that every word matches, ascending. Candidates start as the union of the
/// cheapest word, as a bitset; every other word, cheapest first, keeps those it holds:
/// while its postings are few for the candidates, its bitset is intersected with theirs;
/// after that, the candidates are listed and [`narrow`]ed. Deleted documents are left in:
/// tantivy's collectors skip them.
pub(super) fn conjunction(
    words: &[WordLists],
    bits: &mut DocBits,
    memo: Option<&ListMemo>,
) -> tantivy::Result<Vec<DocId>> {
    for list in &words[0].lists {
        bits.insert_list(list, memo)?;
    }
    let mut count = bits.count();
    let mut rest = &words[1..];
    let mut other: Option<DocBits> = None;
    while let Some((word, tail)) = rest.split_first() {
        if count == 0 || !is_dense(word.postings, count) {
            break;
        }
        let other = other.get_or_insert_with(|| DocBits { words: vec![0; bits.words.len()] });
        count = bits.intersect_lists(&word.lists, other, memo)?;
        rest = tail;
    }
    if count == 0 {
        return Ok(Vec::new());
    }
    let mut candidates = bits.docs();
    narrow(rest, &mut candidates, bits, memo)?;
    Ok(candidates)
}

/// Keeps the `candidates` every one of `words` holds, cheapest word first. A word whose
/// postings are few for the candidates left is read whole into `bits`; otherwise each of
/// its lists is decided alone, as a word of many short lists (a prefix's completions, a
/// word in six fields) would pay a walk over every candidate per list: a list short for
/// the candidates is read whole into `bits` too, a long one answers for each candidate
/// from its kept bitset, or through its skip data.
pub(super) fn narrow(
    words: &[WordLists],
    candidates: &mut Vec<DocId>,
    bits: &mut DocBits,
    memo: Option<&ListMemo>,
) -> tantivy::Result<()> {
    let mut hits = Vec::new();
    for word in words {
        if candidates.is_empty() {
            break;
        }
        let whole_word = is_dense(word.postings, candidates.len());
        let mut read = false;
        hits.clear();
        hits.resize(candidates.len(), false);
        for list in &word.lists {
            let kept = memo.filter(|_| ListMemo::keeps_docs(list, bits.words.len()));
            if whole_word
                || (kept.is_none() && is_dense(u64::from(list.posted.info.doc_freq), candidates.len()))
            {
                if !read {
                    bits.clear();
                    read = true;
                }
                bits.insert_list(list, memo)?;
                continue;
            }
            match kept {
                // A long list's kept bitset answers for each candidate without a skip.
                Some(memo) => {
                    let docs = memo.docs(list, bits.words.len())?;
                    hits.iter_mut().zip(candidates.iter()).for_each(|(hit, &doc)| *hit |= holds(&docs, doc));
                }
                None => {
                    walk(&mut list.postings(IndexRecordOption::Basic)?, candidates, |i, _| hits[i] = true)
                }
            }
        }
        let mut hit = hits.iter();
        candidates
            .retain(|&doc| *hit.next().expect("one flag per candidate") || (read && bits.contains(doc)));
    }
    Ok(())
}

/// Whether `postings` are few enough for the `candidates` left to be read whole, block by
/// block, rather than skipped through to each candidate: a skip costs about as much as
/// decoding a dozen postings.
pub(super) fn is_dense(postings: u64, candidates: usize) -> bool {
    postings <= DENSE_POSTINGS_PER_CANDIDATE * candidates as u64
}

/// See [`is_dense`].
pub(super) const DENSE_POSTINGS_PER_CANDIDATE: u64 = 16;
