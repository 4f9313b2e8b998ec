//! The documents every required clause matches: bitsets while candidates are many, skips
//! through the lists' skip data once they are few.

use tantivy::DocId;
use tantivy::schema::IndexRecordOption;

use super::doc_sets::{DocBits, holds, walk};
use super::memo::ListMemo;
use super::{Clause, List, WordLists};

/// Which of `candidates` `clause` matches: any of its union's terms, or all the parts of
/// one of its groups (see [`any_holds`]).
pub(super) fn clause_hits(
    clause: &Clause,
    lists: &[Option<List>],
    candidates: &[DocId],
    max_doc: DocId,
    memo: Option<&ListMemo>,
) -> tantivy::Result<Vec<bool>> {
    let any_of =
        |range: std::ops::Range<usize>| any_holds(lists[range].iter().flatten(), candidates, max_doc, memo);
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

/// Which of `candidates` (ascending) any of `lists` holds, each list decided alone: one
/// with few postings for the candidates is read whole into a bitset, a long one answers
/// for each candidate from its kept bitset, or through its skip data. A term of many
/// short lists (a prefix's completions, in six fields) would otherwise pay a walk over the
/// candidates per list.
fn any_holds<'a>(
    lists: impl IntoIterator<Item = &'a List>,
    candidates: &[DocId],
    max_doc: DocId,
    memo: Option<&ListMemo>,
) -> tantivy::Result<Vec<bool>> {
    let words = (max_doc as usize).div_ceil(64);
    let mut hits = vec![false; candidates.len()];
    let mut read: Option<DocBits> = None;
    for list in lists {
        if is_dense(u64::from(list.posted.info.doc_freq), candidates.len()) {
            read.get_or_insert_with(|| DocBits::new(max_doc)).insert_list(list, memo)?;
        } else if let Some(memo) = memo.filter(|_| ListMemo::keeps_docs(list, words)) {
            let docs = memo.docs(list, words)?;
            hits.iter_mut().zip(candidates).for_each(|(hit, &doc)| *hit |= holds(&docs, doc));
        } else {
            walk(&mut list.postings(IndexRecordOption::Basic)?, candidates, |i, _| hits[i] = true);
        }
    }
    if let Some(read) = read {
        hits.iter_mut().zip(candidates).for_each(|(hit, &doc)| *hit |= read.contains(doc));
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
                Some(all) => {
                    all.intersect(&any);
                }
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
    max_doc: DocId,
    memo: Option<&ListMemo>,
) -> tantivy::Result<Vec<DocId>> {
    let mut bits = DocBits::new(max_doc);
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
    let mut candidates = bits.docs_counted(count);
    narrow(rest, &mut candidates, max_doc, memo)?;
    Ok(candidates)
}

/// Keeps the `candidates` every one of `words` holds (see [`any_holds`]), cheapest word
/// first.
pub(super) fn narrow(
    words: &[WordLists],
    candidates: &mut Vec<DocId>,
    max_doc: DocId,
    memo: Option<&ListMemo>,
) -> tantivy::Result<()> {
    for word in words {
        if candidates.is_empty() {
            break;
        }
        let hits = any_holds(&word.lists, candidates, max_doc, memo)?;
        let mut hit = hits.iter();
        candidates.retain(|_| *hit.next().expect("one flag per candidate"));
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
