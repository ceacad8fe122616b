//! Limits checked on an expression's text, before the parser sees it: the parser recurses once per
//! bracket and per operator, and a deep enough expression would overflow any stack.

use super::limits::{CelLimitError, MAX_EXPRESSION_CHARS, MAX_NESTING_DEPTH, MAX_OPERATORS};

/// What the text of an expression adds up to, outside its string literals.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Shape {
    pub chars: usize,
    /// The deepest nesting of `(`, `[` and `{`.
    pub depth: usize,
    /// Runs of operator characters (`&&` is one), each a level the parser may nest.
    pub operators: usize,
}

fn is_operator(c: char) -> bool {
    matches!(
        c,
        '+' | '-' | '*' | '/' | '%' | '!' | '=' | '<' | '>' | '&' | '|' | '?' | ':' | '.'
    )
}

/// Measures an expression. String literals (`'…'`, `"…"`, triple-quoted, with escapes) are
/// skipped, so brackets inside them do not count.
pub fn shape(expression: &str) -> Shape {
    let chars: Vec<char> = expression.chars().collect();
    let mut shape = Shape {
        chars: chars.len(),
        ..Shape::default()
    };
    let mut depth = 0usize;
    let mut in_operator = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' || c == '"' {
            i = skip_string(&chars, i);
            in_operator = false;
            continue;
        }
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                shape.depth = shape.depth.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        let operator = is_operator(c);
        if operator && !in_operator {
            shape.operators += 1;
        }
        in_operator = operator;
        i += 1;
    }
    shape
}

/// The index just after the string literal that starts at `start`.
fn skip_string(chars: &[char], start: usize) -> usize {
    let quote = chars[start];
    let triple = chars.get(start + 1) == Some(&quote) && chars.get(start + 2) == Some(&quote);
    let mut i = start + if triple { 3 } else { 1 };
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            c if c == quote => {
                if !triple {
                    return i + 1;
                }
                if chars.get(i + 1) == Some(&quote) && chars.get(i + 2) == Some(&quote) {
                    return i + 3;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    chars.len()
}

/// Refuses an expression over the size, nesting or operator limit.
pub fn check(expression: &str) -> Result<(), CelLimitError> {
    let chars = expression.chars().count();
    if chars > MAX_EXPRESSION_CHARS {
        return Err(CelLimitError::TooLong { chars });
    }
    let shape = shape(expression);
    if shape.depth > MAX_NESTING_DEPTH {
        return Err(CelLimitError::TooDeep { depth: shape.depth });
    }
    if shape.operators > MAX_OPERATORS {
        return Err(CelLimitError::TooManyOperators { count: shape.operators });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_and_operators_are_counted_outside_strings() {
        let s = shape("object.spec.x.exists(e, e in ['a(', \"b[\"]) && (1 + 2) > 2");
        assert_eq!(s.depth, 2);
        // . . . ( , ) && + >  → the dots, &&, +, > and the comparison
        assert_eq!(s.operators, 6);
        assert_eq!(shape("'''a ((( ''' + [1]").depth, 1);
        assert_eq!(shape(r"'it\'s (' + ((1))").depth, 2);
    }

    #[test]
    fn each_limit_is_named() {
        assert_eq!(
            check(&"x".repeat(MAX_EXPRESSION_CHARS + 1)),
            Err(CelLimitError::TooLong {
                chars: MAX_EXPRESSION_CHARS + 1
            })
        );
        let deep = format!("{}1{}", "(".repeat(40), ")".repeat(40));
        assert_eq!(check(&deep), Err(CelLimitError::TooDeep { depth: 40 }));
        let ok = format!("{}1{}", "[".repeat(MAX_NESTING_DEPTH), "]".repeat(MAX_NESTING_DEPTH));
        assert_eq!(check(&ok), Ok(()));
        let chain = ["1"; MAX_OPERATORS + 2].join("+");
        assert_eq!(
            check(&chain),
            Err(CelLimitError::TooManyOperators {
                count: MAX_OPERATORS + 1
            })
        );
    }
}
