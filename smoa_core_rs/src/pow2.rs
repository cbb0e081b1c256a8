//! Rescaling by powers of two, which is exact: how a mean or a z-score is computed again when its sums
//! overflowed (values near f64::MAX) or its squares vanished (subnormal spreads), without changing it.

/// The exponent e that brings `largest` (finite, > 0) to about 1 as `largest · 2^e`.
pub fn unit_exponent(largest: f64) -> i32 {
    -(largest.log2().floor() as i32)
}

/// x · 2^e, in two steps since 2^e alone is out of range past e = 1023 (and a subnormal needs 1074).
pub fn times_pow2(x: f64, e: i32) -> f64 {
    x * 2f64.powi(e / 2) * 2f64.powi(e - e / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brings_any_magnitude_near_one_and_back_exactly() {
        for x in [f64::MAX, 5e-324, 1.8e-308, 3.0, 1e300, 0.1] {
            let e = unit_exponent(x);
            let unit = times_pow2(x, e);
            assert!((0.5..2.0).contains(&unit), "{x} -> {unit}");
            assert_eq!(times_pow2(unit, -e), x);
        }
    }
}
