//! The benchmark's seeded random numbers, shared by the log and the databases it is read with.

/// SplitMix64 (<https://prng.di.unimi.it/splitmix64.c>): seeded, so every run has the same log.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// One of `items`, each as often as its weight: one draw below the weights' sum.
    pub(super) fn pick_weighted<T: Copy>(&mut self, items: &[(u64, T)]) -> T {
        let mut roll = self.below(items.iter().map(|(weight, _)| weight).sum());
        for &(weight, item) in items {
            if roll < weight {
                return item;
            }
            roll -= weight;
        }
        unreachable!("the roll is below the weights' sum")
    }

    pub(super) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    pub(super) fn hex(&mut self, digits: usize) -> String {
        (0..digits)
            .map(|_| char::from(b"0123456789abcdef"[self.below(16) as usize]))
            .collect()
    }
}
