//! Fallible allocation for the buffers whose size the input decides. Rust's ordinary allocation aborts the
//! process when the allocator refuses (and panics on a size past `isize::MAX`); these turn both into an
//! `OutOfMemory` error naming the argument, which the binding raises as `MemoryError`.

use crate::error::{CoreError, Result};

fn refused<T>(arg: &str, len: usize) -> CoreError {
    CoreError::out_of_memory(arg, len as u128 * std::mem::size_of::<T>() as u128)
}

/// An empty vector with room for exactly `len` items.
pub fn with_capacity<T>(arg: &str, len: usize) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| refused::<T>(arg, len))?;
    Ok(v)
}

/// `len` copies of `value`.
pub fn filled<T: Clone>(arg: &str, len: usize, value: T) -> Result<Vec<T>> {
    let mut v = with_capacity(arg, len)?;
    v.resize(len, value);
    Ok(v)
}

/// Room for `additional` more items, growing geometrically as `push` would.
pub fn reserve<T>(v: &mut Vec<T>, arg: &str, additional: usize) -> Result<()> {
    v.try_reserve(additional).map_err(|_| refused::<T>(arg, v.len().saturating_add(additional)))
}

/// `push`, except that a refused allocation is an error.
pub fn push<T>(v: &mut Vec<T>, arg: &str, item: T) -> Result<()> {
    if v.len() == v.capacity() {
        reserve(v, arg, 1)?;
    }
    v.push(item);
    Ok(())
}

/// `collect`, except that a refused allocation is an error.
pub fn collect<T>(arg: &str, items: impl IntoIterator<Item = T>) -> Result<Vec<T>> {
    let items = items.into_iter();
    let mut v = with_capacity(arg, items.size_hint().0)?;
    for item in items {
        push(&mut v, arg, item)?;
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_sizes_are_errors_not_panics() {
        let e = with_capacity::<f64>("n", 1 << 62).unwrap_err();
        assert!(e.is_out_of_memory());
        assert_eq!(e.to_string(), format!("n: could not allocate {} bytes", (1u128 << 62) * 8));
        assert!(filled("n", usize::MAX, 0u8).unwrap_err().is_out_of_memory());
        let mut v = vec![1u64];
        assert!(reserve(&mut v, "v", usize::MAX).is_err());
    }

    #[test]
    fn collect_and_push_behave_like_std() {
        assert_eq!(collect("x", (0..5).filter(|i| i % 2 == 0)).unwrap(), vec![0, 2, 4]);
        let mut v = Vec::new();
        (0..100).for_each(|i| push(&mut v, "v", i).unwrap());
        assert_eq!(v, (0..100).collect::<Vec<_>>());
    }
}
