//! Durations on the command line: `500ms`, `30s`, `5m`, `2h`, `1d`.

/// Parses a duration into milliseconds.
pub fn parse_millis(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: i64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 500ms, 30s, 5m, 2h or 1d"))?;
    let factor = match unit {
        "ms" => 1,
        "s" | "" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("`{unit}` is not a unit: use ms, s, m, h or d")),
    };
    n.checked_mul(factor)
        .filter(|&m| m > 0)
        .ok_or_else(|| format!("`{text}` must be a positive duration"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(parse_millis("500ms"), Ok(500));
        assert_eq!(parse_millis("30s"), Ok(30_000));
        assert_eq!(parse_millis("5m"), Ok(300_000));
        assert_eq!(parse_millis("2h"), Ok(7_200_000));
        assert!(parse_millis("0s").is_err());
        assert!(parse_millis("5y").is_err());
        assert!(parse_millis("soon").is_err());
    }
}
