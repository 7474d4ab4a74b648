//! Equality of names (tag and field keys), which are short: comparing them with a few
//! word loads instead of a call to `memcmp` matters when every line repeats twenty of them.

/// Whether `a` and `b` hold the same bytes.
#[inline]
pub fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |x: &[u8], at: usize| u64::from_le_bytes(x[at..at + 8].try_into().expect("8 bytes"));
    match n {
        // Two words that overlap where n < 16 cover every byte.
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        0..8 => a.iter().zip(b).all(|(x, y)| x == y),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::same_name;

    #[test]
    fn names_of_every_length_compare_by_all_their_bytes() {
        let base: String = ('a'..='z').chain('A'..='Z').collect();
        for len in 0..=base.len() {
            let name = &base[..len];
            let copy = name.to_owned();
            assert!(same_name(name, &copy));
            for at in 0..len {
                let mut other = name.as_bytes().to_vec();
                other[at] = b'_';
                let other = String::from_utf8(other).expect("ASCII");
                assert!(!same_name(name, &other), "{name} vs {other}");
            }
            assert!(!same_name(name, &base[..len.saturating_sub(1)]) || len == 0);
        }
    }
}
