//! Union-find whose root is always the smallest member, so a cluster's representative is its first item.

use crate::alloc;
use crate::error::Result;

pub struct DisjointSets(Vec<usize>);

impl DisjointSets {
    pub fn new(n: usize) -> Result<Self> {
        Ok(Self(alloc::collect("texts", 0..n)?))
    }

    pub fn find(&mut self, mut x: usize) -> usize {
        while self.0[x] != x {
            self.0[x] = self.0[self.0[x]];
            x = self.0[x];
        }
        x
    }

    pub fn same(&mut self, a: usize, b: usize) -> bool {
        self.find(a) == self.find(b)
    }

    pub fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.0[hi] = lo;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_is_the_smallest_member() {
        let mut s = DisjointSets::new(5).unwrap();
        s.union(4, 2);
        s.union(3, 4);
        assert_eq!((s.find(3), s.find(4), s.find(0)), (2, 2, 0));
        s.union(0, 3);
        assert!(s.same(0, 4) && !s.same(1, 2));
    }
}
