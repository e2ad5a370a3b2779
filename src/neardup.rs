//! Near-duplicate detection for syndicated stories.
//!
//! The same wire story runs at many outlets with a different headline, a
//! trimmed paragraph or the outlet's own furniture around it. Each article's
//! main text is reduced to its set of word trigrams (lower-cased letters and
//! digits only) and that set to a MinHash [`Signature`] of [`HASHES`] values:
//! the share of positions two signatures agree on estimates the Jaccard
//! similarity of the two sets. Articles at or above [`THRESHOLD`] are one
//! story. A copy with a fifth of its text cut scores about 0.8; two reports
//! of the same event by different writers score well under 0.1.
//!
//! The [`Index`] finds such a neighbour without comparing against every
//! stored signature (locality-sensitive hashing): the signature is cut into
//! bands of two values, and only stories sharing a whole band with the new
//! one are scored. A pair at 0.5 shares at least one of the 32 bands with
//! probability 1 − (1 − 0.5²)³² > 0.9998; unrelated stories almost never do.

use std::collections::HashMap;

/// Values in a signature.
pub const HASHES: usize = 64;
const ROWS: usize = 2;
const BANDS: usize = HASHES / ROWS;

/// Estimated Jaccard similarity at which two articles are one story.
pub const THRESHOLD: f64 = 0.5;

/// Texts with fewer words than this get no signature: short notices, paywall
/// stubs and error pages look alike without being the same story.
pub const MIN_WORDS: usize = 60;

/// A MinHash signature: for each of [`HASHES`] hash functions, the least
/// value (its high 32 bits) over the text's trigrams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub [u32; HASHES]);

/// A 64-bit mix of a 64-bit value (the finaliser of SplitMix64).
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The normalised words of a text, each reduced to a hash.
fn word_hashes(text: &str) -> Vec<u64> {
    let mut out = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut Vec<u64>| {
        if !word.is_empty() {
            out.push(fnv1a(word.as_bytes()));
            word.clear();
        }
    };
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        } else if c == '\'' || c == '\u{2019}' {
            // "Kyiv's" and "Kyiv’s" are one word
        } else {
            flush(&mut word, &mut out);
        }
    }
    flush(&mut word, &mut out);
    out
}

impl Signature {
    /// The signature of a text, or `None` when it is too short to tell a
    /// story by.
    pub fn of(text: &str) -> Option<Signature> {
        let words = word_hashes(text);
        if words.len() < MIN_WORDS {
            return None;
        }
        let mut shingles: Vec<u64> = words
            .windows(3)
            .map(|w| w[0] ^ w[1].rotate_left(21) ^ w[2].rotate_left(42))
            .collect();
        shingles.sort_unstable();
        shingles.dedup();
        let mut min = [u64::MAX; HASHES];
        for s in shingles {
            // hash i of a shingle: the mix of the shingle under seed i
            let base = mix(s);
            for (i, m) in min.iter_mut().enumerate() {
                let h = mix(base ^ SEEDS[i]);
                if h < *m {
                    *m = h;
                }
            }
        }
        Some(Signature(min.map(|m| (m >> 32) as u32)))
    }

    /// The estimated Jaccard similarity of the two texts.
    pub fn similarity(&self, other: &Signature) -> f64 {
        let same = self
            .0
            .iter()
            .zip(other.0.iter())
            .filter(|(a, b)| a == b)
            .count();
        same as f64 / HASHES as f64
    }

    /// The signature as stored: little-endian values, back to back.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// Reads a stored signature; `None` when the bytes are not one.
    pub fn from_bytes(b: &[u8]) -> Option<Signature> {
        if b.len() != HASHES * 4 {
            return None;
        }
        let mut out = [0u32; HASHES];
        for (v, c) in out.iter_mut().zip(b.chunks_exact(4)) {
            *v = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        }
        Some(Signature(out))
    }

    fn band_keys(&self) -> impl Iterator<Item = (u8, u64)> + '_ {
        (0..BANDS).map(|b| {
            let lo = u64::from(self.0[b * ROWS]);
            let hi = u64::from(self.0[b * ROWS + 1]);
            (b as u8, lo | hi << 32)
        })
    }
}

/// Seeds of the hash functions, fixed so stored signatures stay comparable.
const SEEDS: [u64; HASHES] = {
    let mut out = [0u64; HASHES];
    let mut x: u64 = 0x5374_616e_6365_7721;
    let mut i = 0;
    while i < HASHES {
        // SplitMix64's sequence, written out for a const context
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        out[i] = z ^ (z >> 31);
        i += 1;
    }
    out
};

/// Signatures of stories already read, with what the caller keeps of each.
#[derive(Debug)]
pub struct Index<T> {
    items: Vec<(Signature, T)>,
    bands: HashMap<(u8, u64), Vec<u32>>,
}

impl<T> Default for Index<T> {
    fn default() -> Self {
        Index {
            items: Vec::new(),
            bands: HashMap::new(),
        }
    }
}

impl<T> Index<T> {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn insert(&mut self, sig: Signature, value: T) {
        let i = self.items.len() as u32;
        for k in sig.band_keys() {
            self.bands.entry(k).or_default().push(i);
        }
        self.items.push((sig, value));
    }

    /// The most similar stored story at or above [`THRESHOLD`] that `keep`
    /// accepts (the earliest stored on a tie), with its similarity.
    pub fn find(&self, sig: &Signature, keep: impl Fn(&T) -> bool) -> Option<(&T, f64)> {
        let mut best: Option<(usize, u32)> = None;
        for k in sig.band_keys() {
            for &i in self.bands.get(&k).map(Vec::as_slice).unwrap_or(&[]) {
                let same = sig
                    .0
                    .iter()
                    .zip(self.items[i as usize].0.0.iter())
                    .filter(|(a, b)| a == b)
                    .count();
                let better = best.is_none_or(|(bs, bi)| same > bs || (same == bs && i < bi));
                if same as f64 / HASHES as f64 >= THRESHOLD
                    && better
                    && keep(&self.items[i as usize].1)
                {
                    best = Some((same, i));
                }
            }
        }
        best.map(|(same, i)| (&self.items[i as usize].1, same as f64 / HASHES as f64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORY: &str = "KYIV (Wire) - European leaders met in Paris on Tuesday to discuss \
        security guarantees for Ukraine after a ceasefire, with several governments saying \
        they were ready to send troops as part of a reassurance force. The United States \
        has not committed to a backstop, officials said, although talks continue. Russia's \
        foreign ministry said any deployment of European troops would be unacceptable and \
        warned that such forces would be legitimate targets. Ukraine's president said his \
        country would not give up territory in exchange for guarantees that were not \
        binding, and called for a decision within weeks rather than months.";

    /// Another report of the same meeting, in other words.
    const SAME_EVENT: &str = "Talks in Paris on Tuesday brought European leaders together \
        over how to guarantee Ukraine's security once the fighting stops. A number of \
        capitals signalled readiness to contribute soldiers to a reassurance mission, \
        while Washington has yet to promise a backstop. Moscow called any European \
        deployment unacceptable, and its diplomats said troops sent to Ukraine would be \
        seen as targets. In Kyiv, the president repeated that territory would not be \
        traded for promises without legal force and asked allies to decide quickly, \
        within weeks, on the shape of the guarantees on offer.";

    #[test]
    fn short_texts_have_no_signature() {
        assert_eq!(Signature::of("Kyiv says no to the plan."), None);
        assert!(Signature::of(STORY).is_some());
    }

    #[test]
    fn a_syndicated_copy_is_one_story_and_a_rewrite_is_not() {
        let a = Signature::of(STORY).unwrap();
        // another outlet: its own dateline, curly apostrophes, a clause cut
        let copy = STORY
            .replace("KYIV (Wire) -", "PARIS, Nov 3 (Reuters) -")
            .replace('\'', "\u{2019}")
            .replace(
                ", and called for a decision within weeks rather than months",
                "",
            );
        let b = Signature::of(&copy).unwrap();
        assert!(a.similarity(&b) >= THRESHOLD, "{}", a.similarity(&b));
        let c = Signature::of(SAME_EVENT).unwrap();
        assert!(a.similarity(&c) < 0.2, "{}", a.similarity(&c));
        assert_eq!(a.similarity(&a), 1.0);
    }

    #[test]
    fn signatures_survive_storage() {
        let a = Signature::of(STORY).unwrap();
        assert_eq!(Signature::from_bytes(&a.to_bytes()), Some(a));
        assert_eq!(Signature::from_bytes(&[1, 2, 3]), None);
    }

    #[test]
    fn index_finds_the_copy_and_honours_the_filter() {
        let mut idx = Index::default();
        idx.insert(Signature::of(SAME_EVENT).unwrap(), "rewrite");
        idx.insert(Signature::of(STORY).unwrap(), "wire");
        let copy = STORY.replace("KYIV (Wire) -", "Kyiv —");
        let q = Signature::of(&copy).unwrap();
        let (found, sim) = idx.find(&q, |_| true).unwrap();
        assert_eq!(*found, "wire");
        assert!(sim >= THRESHOLD);
        assert!(idx.find(&q, |v| *v != "wire").is_none());
        assert_eq!(idx.len(), 2);
    }

    /// Signatures with a known share of equal values, to test the index
    /// against a scan of every stored signature.
    #[test]
    fn index_agrees_with_a_linear_scan_above_the_threshold() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed = mix(seed);
            seed
        };
        let mut idx = Index::default();
        let mut all = Vec::new();
        for i in 0..500 {
            let s = Signature([0; HASHES].map(|_| next() as u32));
            idx.insert(s, i);
            all.push(s);
        }
        for _ in 0..500 {
            let mut q = all[(next() % all.len() as u64) as usize];
            // change a random share of the values
            let changes = (next() % HASHES as u64) as usize;
            for _ in 0..changes {
                q.0[(next() % HASHES as u64) as usize] = next() as u32;
            }
            let linear = all
                .iter()
                .enumerate()
                .map(|(i, s)| (i, q.similarity(s)))
                .filter(|(_, sim)| *sim >= THRESHOLD)
                .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
                .map(|(i, _)| i);
            let found = idx.find(&q, |_| true).map(|(i, _)| *i);
            // at ≥ 0.5 every match shares a band unless the changes fall on
            // one value of every band; the index may only miss those
            if found != linear {
                let s = all[linear.unwrap()];
                assert!(
                    s.band_keys().zip(q.band_keys()).all(|(a, b)| a != b),
                    "missed a pair sharing a band"
                );
            }
        }
    }
}
