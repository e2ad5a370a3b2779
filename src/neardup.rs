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
//! Finding such a neighbour does not compare against every stored signature
//! (locality-sensitive hashing): the signature is cut into [`BANDS`] bands of
//! four values and each band hashed to a key ([`Signature::band_keys`]); only
//! stories sharing a key with the new one are scored, the ones sharing most
//! keys first. The state database keeps the keys, so the search costs one
//! indexed lookup and no memory, however many stories the window holds. A
//! pair at similarity s shares a band with probability 1 − (1 − s⁴)¹⁶: 0.98
//! at 0.7 (a syndicated copy is usually above), 0.64 at 0.5, 0.12 at 0.3 and
//! about one in ten thousand for unrelated stories (0.05).

/// Values in a signature.
pub const HASHES: usize = 64;
const ROWS: usize = 4;
/// Bands of a signature, each one key for the search.
pub const BANDS: usize = HASHES / ROWS;

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
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

/// The normalised words of a text (letters and digits, lower-cased;
/// apostrophes dropped, so "Kyiv's" and "Kyiv’s" are one word), each reduced
/// to the FNV-1a hash of its UTF-8 bytes, computed as the text is read.
fn word_hashes(text: &str) -> Vec<u64> {
    let mut out = Vec::with_capacity(text.len() / 5);
    let mut h = FNV_OFFSET;
    let mut in_word = false;
    let feed = |h: &mut u64, b: u8| {
        *h ^= u64::from(b);
        *h = h.wrapping_mul(FNV_PRIME);
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            feed(&mut h, (c as u8).to_ascii_lowercase());
            in_word = true;
        } else if c == '\'' || c == '\u{2019}' {
            // inside a word: skipped
        } else if !c.is_ascii() && c.is_alphanumeric() {
            let mut buf = [0u8; 4];
            for l in c.to_lowercase() {
                for b in l.encode_utf8(&mut buf).bytes() {
                    feed(&mut h, b);
                }
            }
            in_word = true;
        } else if in_word {
            out.push(h);
            h = FNV_OFFSET;
            in_word = false;
        }
    }
    if in_word {
        out.push(h);
    }
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
        let shingles = words
            .windows(3)
            .map(|w| w[0] ^ w[1].rotate_left(21) ^ w[2].rotate_left(42));
        Some(Signature::of_set(shingles))
    }

    /// The signature of a set of 64-bit items (repeats count once).
    ///
    /// Hash function i is x ↦ (mix(x) ⊕ seedᵢ) · multᵢ mod 2⁶⁴ with an odd
    /// multiplier: each is a permutation of the mixed values, and one multiply
    /// per item and function keeps a page's signature to a few microseconds.
    pub fn of_set(items: impl IntoIterator<Item = u64>) -> Signature {
        let mut items: Vec<u64> = items.into_iter().collect();
        items.sort_unstable();
        items.dedup();
        let mut min = [u64::MAX; HASHES];
        for s in items {
            let base = mix(s);
            for ((m, seed), mult) in min.iter_mut().zip(SEEDS).zip(MULTS) {
                let h = (base ^ seed).wrapping_mul(mult);
                if h < *m {
                    *m = h;
                }
            }
        }
        Signature(min.map(|m| (m >> 32) as u32))
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

    /// One key per band: two signatures share a key when they agree on
    /// the whole band (and, rarely, by a hash collision, which the score
    /// then rules out).
    pub fn band_keys(&self) -> [i64; BANDS] {
        let mut out = [0i64; BANDS];
        for (b, k) in out.iter_mut().enumerate() {
            let band = &self.0[b * ROWS..(b + 1) * ROWS];
            let lo = u64::from(band[0]) | u64::from(band[1]) << 32;
            let hi = u64::from(band[2]) | u64::from(band[3]) << 32;
            *k = mix(mix(lo ^ SEEDS[b]) ^ hi) as i64;
        }
        out
    }
}

/// A Bloom filter of band keys: "maybe seen" or "certainly not", in about
/// twenty bits per key (a false "maybe" about once in ten thousand keys). A pass keeps the keys
/// of the stories it read in one, so an article that shares no key with them
/// (nearly all) needs no database search.
#[derive(Debug, Clone)]
pub struct KeyFilter {
    bits: Vec<u64>,
}

impl KeyFilter {
    /// A filter for about `keys` keys.
    pub fn with_capacity(keys: usize) -> KeyFilter {
        let words = (keys.max(64) * 20).div_ceil(64).next_power_of_two();
        KeyFilter {
            bits: vec![0; words],
        }
    }

    fn probes(&self, key: i64) -> [usize; 12] {
        let n = self.bits.len() * 64;
        let h1 = mix(key as u64);
        let h2 = mix(h1 ^ 0x5851_f42d_4c95_7f2d) | 1;
        std::array::from_fn(|i| (h1.wrapping_add((i as u64).wrapping_mul(h2)) as usize) & (n - 1))
    }

    pub fn insert(&mut self, key: i64) {
        for p in self.probes(key) {
            self.bits[p / 64] |= 1 << (p % 64);
        }
    }

    pub fn may_contain(&self, key: i64) -> bool {
        self.probes(key)
            .iter()
            .all(|p| self.bits[p / 64] & (1 << (p % 64)) != 0)
    }
}

/// `HASHES` values of SplitMix64's sequence from `start`; `odd` sets the
/// low bit of each.
const fn splitmix_table(start: u64, odd: bool) -> [u64; HASHES] {
    let mut out = [0u64; HASHES];
    let mut x = start;
    let mut i = 0;
    while i < HASHES {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        out[i] = mix(x) | odd as u64;
        i += 1;
    }
    out
}

/// Seeds of the hash functions, fixed so stored signatures stay comparable.
const SEEDS: [u64; HASHES] = splitmix_table(0x5374_616e_6365_7721, false);

/// Odd multipliers of the hash functions, fixed like the seeds.
const MULTS: [u64; HASHES] = splitmix_table(0x6d75_6c74_6970_6c79, true);

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
    fn words_are_compared_without_case_or_apostrophes() {
        let w =
            word_hashes("Kyiv's KYIV\u{2019}S kyivs, \u{c9}LYS\u{c9}E \u{e9}lys\u{e9}e -- 2026");
        assert_eq!(w.len(), 6);
        assert!(w[0] == w[1] && w[1] == w[2]);
        assert_eq!(w[3], w[4]);
        assert_ne!(w[0], w[3]);
        assert_eq!(word_hashes("  ,;  "), Vec::<u64>::new());
    }

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

    /// The share of equal values estimates the Jaccard similarity: over
    /// many pairs of sets with a known overlap, the mean estimate is close.
    #[test]
    fn signatures_estimate_the_jaccard_similarity() {
        for (overlap, expect) in [
            (100u64, 100.0 / 300.0),
            (150, 150.0 / 250.0),
            (20, 20.0 / 380.0),
        ] {
            let pairs = 200;
            let mut total = 0.0;
            for p in 0..pairs {
                let base = (p as u64) << 32;
                let a = Signature::of_set((0..200).map(|i| base + i));
                let b = Signature::of_set((200 - overlap..400 - overlap).map(|i| base + i));
                total += a.similarity(&b);
            }
            let mean = total / pairs as f64;
            assert!(
                (mean - expect).abs() < 0.03,
                "{overlap}: {mean} vs {expect}"
            );
        }
    }

    #[test]
    fn the_key_filter_never_forgets_and_seldom_imagines() {
        let mut f = KeyFilter::with_capacity(10_000);
        let mut x = 7u64;
        let mut keys = Vec::new();
        for _ in 0..10_000 {
            x = mix(x);
            keys.push(x as i64);
            f.insert(x as i64);
        }
        assert!(keys.iter().all(|k| f.may_contain(*k)));
        let false_maybes = (0..100_000)
            .filter(|_| {
                x = mix(x);
                f.may_contain(x as i64)
            })
            .count();
        assert!(false_maybes < 100, "{false_maybes} in 100000");
    }

    #[test]
    fn signatures_survive_storage() {
        let a = Signature::of(STORY).unwrap();
        assert_eq!(Signature::from_bytes(&a.to_bytes()), Some(a));
        assert_eq!(Signature::from_bytes(&[1, 2, 3]), None);
    }

    #[test]
    fn a_copy_shares_a_band_key_and_an_unrelated_text_almost_never_does() {
        let a = Signature::of(STORY).unwrap();
        let copy = Signature::of(&STORY.replace("KYIV (Wire) -", "Kyiv —")).unwrap();
        let keys = a.band_keys();
        assert!(copy.band_keys().iter().any(|k| keys.contains(k)));
        let other = Signature::of(SAME_EVENT).unwrap();
        assert!(!other.band_keys().iter().any(|k| keys.contains(k)));
    }

    /// Over random signature pairs with a known share of equal values, the
    /// chance of sharing a band follows 1 − (1 − s⁴)^bands: a copy-like pair
    /// (0.7) is nearly always a candidate, a pair at 0.3 seldom is.
    #[test]
    fn band_keys_make_candidates_as_the_theory_says() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed = mix(seed);
            seed
        };
        let mut rate = |share: f64| {
            let trials = 2000;
            let mut hits = 0;
            for _ in 0..trials {
                let a = Signature([0; HASHES].map(|_| next() as u32));
                let mut b = a;
                for v in b.0.iter_mut() {
                    if (next() % 1000) as f64 >= share * 1000.0 {
                        *v = next() as u32;
                    }
                }
                let ka = a.band_keys();
                if b.band_keys().iter().any(|k| ka.contains(k)) {
                    hits += 1;
                }
            }
            hits as f64 / trials as f64
        };
        assert!(rate(0.7) > 0.95, "{}", rate(0.7));
        assert!(rate(0.3) < 0.2, "{}", rate(0.3));
        assert_eq!(rate(0.0), 0.0);
    }
}
