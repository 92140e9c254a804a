//! "Did you mean": the nearest known words to a mistyped one, for the
//! messages of `--platform`, `explain RULE` and `--ignore-rule`.

/// Levenshtein distance, counted in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Up to `max` known words close to `word` (within 3 edits, or containing it),
/// nearest first.
pub fn nearest<'a>(
    word: &str,
    known: impl IntoIterator<Item = &'a str>,
    max: usize,
) -> Vec<&'a str> {
    let word = word.to_ascii_lowercase();
    let mut near: Vec<(usize, &str)> = known
        .into_iter()
        .map(|k| (edit_distance(&word, k), k))
        .filter(|(d, k)| *d <= 3 || (!word.is_empty() && k.contains(word.as_str())))
        .collect();
    near.sort();
    near.dedup();
    near.into_iter().take(max).map(|(_, k)| k).collect()
}

/// The single nearest known word, whatever its distance (for messages that
/// must always name one).
pub fn closest<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    known
        .into_iter()
        .min_by_key(|k| (edit_distance(&word, k), k.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_and_suggestions() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(
            nearest("amd46", ["amd64", "arm64", "s390x"], 3),
            ["amd64", "arm64"]
        );
        assert_eq!(closest("lnux", ["linux", "windows"]), Some("linux"));
    }
}
