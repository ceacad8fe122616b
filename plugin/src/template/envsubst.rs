//! The template dialect: clusterctl's `${VARIABLE}` forms (drone/envsubst), parsed by a small
//! scanner into text and expressions, then expanded against a [`Lookup`].
//!
//! | form | value |
//! |---|---|
//! | `${V}` | the value of `V`; `V` is required |
//! | `${V:-d}` `${V:=d}` | `d` when `V` is unset or empty |
//! | `${V-d}` `${V=d}` | `d` when `V` is unset (an empty value is kept) |
//! | `${V:+a}` / `${V+a}` | `a` when `V` is set and not empty / set, else nothing |
//! | `${V:?msg}` / `${V?msg}` | the value; when unset (or empty) `V` is reported missing with `msg` |
//! | `${#V}` | the length of the value |
//! | `${V^}` `${V^^}` `${V,}` `${V,,}` | first letter / all upper case, first letter / all lower case |
//! | `$$` | a literal `$`, so `$${V}` is the text `${V}` |
//!
//! Decisions, where drone/envsubst and clusterctl leave room:
//! - A bare `$VAR` is **not** a variable and stays as written: templates carry shell scripts
//!   (`$HOME`, `$(hostname)`) that must reach the machines untouched. A `$` not followed by `{`
//!   or `$` is plain text.
//! - Names are letters, digits and `_`, not starting with a digit. Spaces just inside the braces
//!   (`${ V }`) are ignored, as clusterctl normalises them.
//! - Defaults, alternates and messages are templates themselves, so they may nest
//!   (`${VNET:=${CLUSTER_NAME}-vnet}`), and braces inside them pair up (`${SPEC:={}}`).
//! - `${V:=}` is an optional variable with an empty default (clusterctl counts it as required).
//! - Substrings and pattern edits (`${V:1:2}`, `${V#p}`, `${V/p/r}`) are rejected with an error
//!   rather than silently mis-expanded.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A line and column (both from 1, columns in characters) in a template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// Why a template cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("{at}: unterminated \"${{\": add the closing \"}}\" (or write \"$$\" for a literal \"$\")")]
    Unterminated { at: Position },
    #[error("{at}: empty variable name in \"${{}}\" (write \"$${{}}\" for the literal text)")]
    EmptyName { at: Position },
    #[error(
        "{at}: invalid variable name {name:?}: names start with a letter or '_' and contain only letters, digits and '_'"
    )]
    InvalidName { name: String, at: Position },
    #[error("{at}: {what} is not supported in templates")]
    Unsupported { what: String, at: Position },
}

/// Where template variables come from.
pub trait Lookup {
    /// The value the user set (flag, environment or config file), if any.
    fn value(&self, name: &str) -> Option<String>;
    /// The value to use when neither the user nor the template gives one.
    fn fallback(&self, _name: &str) -> Option<String> {
        None
    }
}

impl Lookup for BTreeMap<String, String> {
    fn value(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// Why a template cannot be expanded: every variable without a value, at once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Missing {
    /// Sorted and without duplicates.
    pub names: BTreeSet<String>,
    /// Messages of `${V:?message}` forms, by variable.
    pub messages: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Text(String),
    Expr(Expr),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Expr {
    name: String,
    op: Op,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Op {
    Value,
    /// `when_empty` is the `:` forms: an empty value counts as unset.
    Default {
        when_empty: bool,
        arg: Vec<Node>,
        raw: String,
    },
    Alternate {
        when_empty: bool,
        arg: Vec<Node>,
    },
    Required {
        when_empty: bool,
        message: Vec<Node>,
    },
    Length,
    Upper {
        all: bool,
    },
    Lower {
        all: bool,
    },
}

/// What a template says about one of its variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VariableInfo {
    pub name: String,
    /// A use of it outside any other expression's default, alternate or message has no default
    /// of its own, so it always needs a value.
    pub required: bool,
    /// The text of its first default, as written (`${CLUSTER_NAME}-vnet`).
    pub default: Option<String>,
    /// Where it is first used.
    pub first_use: Position,
}

/// A parsed template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    nodes: Vec<Node>,
    uses: Vec<(String, Position, Use)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Use {
    Required,
    Optional,
    Default(String),
}

impl Template {
    pub fn parse(text: &str) -> Result<Template, ParseError> {
        let mut scanner = Scanner::new(text);
        let nodes = scanner.nodes(None)?;
        Ok(Template {
            nodes,
            uses: scanner.uses,
        })
    }

    /// Every variable the template uses, sorted by name.
    pub fn variables(&self) -> Vec<VariableInfo> {
        let mut by_name: BTreeMap<&str, VariableInfo> = BTreeMap::new();
        for (name, at, usage) in &self.uses {
            let info = by_name.entry(name).or_insert_with(|| VariableInfo {
                name: name.clone(),
                required: false,
                default: None,
                first_use: *at,
            });
            match usage {
                Use::Required => info.required = true,
                Use::Optional => {}
                Use::Default(raw) => {
                    info.default.get_or_insert_with(|| raw.clone());
                }
            }
        }
        by_name.into_values().collect()
    }

    /// The text with every expression replaced, or every variable that has no value.
    pub fn expand(&self, lookup: &dyn Lookup) -> Result<String, Missing> {
        let mut out = String::new();
        let mut missing = Missing::default();
        expand_nodes(&self.nodes, lookup, &mut out, &mut missing);
        if missing.names.is_empty() {
            Ok(out)
        } else {
            Err(missing)
        }
    }

    /// Expands the first default written for `name`, as the template would use it.
    pub fn expand_default(&self, name: &str, lookup: &dyn Lookup) -> Option<Result<String, Missing>> {
        let arg = find_default(&self.nodes, name)?;
        let mut out = String::new();
        let mut missing = Missing::default();
        expand_nodes(arg, lookup, &mut out, &mut missing);
        Some(if missing.names.is_empty() {
            Ok(out)
        } else {
            Err(missing)
        })
    }
}

fn find_default<'a>(nodes: &'a [Node], name: &str) -> Option<&'a [Node]> {
    for node in nodes {
        let Node::Expr(e) = node else { continue };
        match &e.op {
            Op::Default { arg, .. } if e.name == name => return Some(arg),
            Op::Default { arg, .. } | Op::Alternate { arg, .. } | Op::Required { message: arg, .. } => {
                if let Some(found) = find_default(arg, name) {
                    return Some(found);
                }
            }
            _ => {}
        }
    }
    None
}

fn expand_nodes(nodes: &[Node], lookup: &dyn Lookup, out: &mut String, missing: &mut Missing) {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Expr(e) => expand_expr(e, lookup, out, missing),
        }
    }
}

fn expand_expr(e: &Expr, lookup: &dyn Lookup, out: &mut String, missing: &mut Missing) {
    let set = lookup.value(&e.name);
    let value = || set.clone().or_else(|| lookup.fallback(&e.name));
    let need = |missing: &mut Missing| {
        missing.names.insert(e.name.clone());
    };
    match &e.op {
        Op::Value => match value() {
            Some(v) => out.push_str(&v),
            None => need(missing),
        },
        Op::Default { when_empty, arg, .. } => match set {
            Some(v) if !(*when_empty && v.is_empty()) => out.push_str(&v),
            _ => expand_nodes(arg, lookup, out, missing),
        },
        Op::Alternate { when_empty, arg } => {
            if value().is_some_and(|v| !(*when_empty && v.is_empty())) {
                expand_nodes(arg, lookup, out, missing);
            }
        }
        Op::Required { when_empty, message } => match value() {
            Some(v) if !(*when_empty && v.is_empty()) => out.push_str(&v),
            _ => {
                need(missing);
                let mut text = String::new();
                expand_nodes(message, lookup, &mut text, missing);
                if !text.is_empty() {
                    missing.messages.entry(e.name.clone()).or_insert(text);
                }
            }
        },
        Op::Length => match value() {
            Some(v) => out.push_str(&v.chars().count().to_string()),
            None => need(missing),
        },
        Op::Upper { all } => match value() {
            Some(v) => out.push_str(&change_case(&v, *all, true)),
            None => need(missing),
        },
        Op::Lower { all } => match value() {
            Some(v) => out.push_str(&change_case(&v, *all, false)),
            None => need(missing),
        },
    }
}

fn change_case(v: &str, all: bool, upper: bool) -> String {
    let convert = |s: &str| if upper { s.to_uppercase() } else { s.to_lowercase() };
    if all {
        return convert(v);
    }
    let mut chars = v.chars();
    match chars.next() {
        Some(first) => convert(&first.to_string()) + chars.as_str(),
        None => String::new(),
    }
}

/// Whether `name` is a valid variable name.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A cursor over the template text that knows its line and column.
struct Scanner<'a> {
    src: &'a str,
    pos: usize,
    line: usize,
    column: usize,
    uses: Vec<(String, Position, Use)>,
    /// How many defaults, alternates or messages the scanner is inside: uses there are needed
    /// only when that branch is taken, so they do not make a variable required.
    nesting: usize,
}

impl<'a> Scanner<'a> {
    fn new(src: &'a str) -> Self {
        Scanner {
            src,
            pos: 0,
            line: 1,
            column: 1,
            uses: Vec::new(),
            nesting: 0,
        }
    }

    /// A use without a default: required at the top level, conditional inside another expression.
    fn plain_use(&self) -> Use {
        if self.nesting == 0 {
            Use::Required
        } else {
            Use::Optional
        }
    }

    /// The argument of an expression opened at `at`: text and expressions up to its closing brace.
    fn argument(&mut self, at: Position) -> Result<Vec<Node>, ParseError> {
        self.nesting += 1;
        let nodes = self.nodes(Some(at));
        self.nesting -= 1;
        nodes
    }

    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn peek2(&self) -> Option<char> {
        self.src[self.pos..].chars().nth(1)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn here(&self) -> Position {
        Position {
            line: self.line,
            column: self.column,
        }
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(' ') {
            self.bump();
        }
    }

    /// Text and expressions up to the end, or, inside an expression opened at `open`, up to its
    /// closing brace (consumed). Braces inside pair up.
    fn nodes(&mut self, open: Option<Position>) -> Result<Vec<Node>, ParseError> {
        let mut nodes = Vec::new();
        let mut text = String::new();
        let mut depth = 0usize;
        loop {
            match self.peek() {
                None => match open {
                    Some(at) => return Err(ParseError::Unterminated { at }),
                    None => break,
                },
                Some('$') => match self.peek2() {
                    Some('$') => {
                        self.bump();
                        self.bump();
                        text.push('$');
                    }
                    Some('{') => {
                        if !text.is_empty() {
                            nodes.push(Node::Text(std::mem::take(&mut text)));
                        }
                        nodes.push(Node::Expr(self.expr()?));
                    }
                    _ => {
                        self.bump();
                        text.push('$');
                    }
                },
                Some('{') if open.is_some() => {
                    depth += 1;
                    self.bump();
                    text.push('{');
                }
                Some('}') if open.is_some() => {
                    self.bump();
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                    text.push('}');
                }
                Some(c) => {
                    self.bump();
                    text.push(c);
                }
            }
        }
        if !text.is_empty() {
            nodes.push(Node::Text(text));
        }
        Ok(nodes)
    }

    fn name(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            self.bump();
        }
        self.src[start..self.pos].to_owned()
    }

    /// The whole of a malformed expression from `start`, for the message; an error of its own when
    /// it never closes.
    fn rest_of_expr(&mut self, at: Position, start: usize) -> ParseError {
        while let Some(c) = self.peek() {
            if c == '}' {
                return ParseError::InvalidName {
                    name: self.src[start..self.pos].trim_end().to_owned(),
                    at,
                };
            }
            if c == '\n' {
                break;
            }
            self.bump();
        }
        ParseError::Unterminated { at }
    }

    fn expect_close(&mut self, at: Position, what: &str) -> Result<(), ParseError> {
        self.skip_spaces();
        match self.peek() {
            Some('}') => {
                self.bump();
                Ok(())
            }
            None | Some('\n') => Err(ParseError::Unterminated { at }),
            Some(_) => Err(ParseError::Unsupported {
                what: what.to_owned(),
                at,
            }),
        }
    }

    /// One `${…}` expression; the scanner is at its `$`.
    fn expr(&mut self) -> Result<Expr, ParseError> {
        let at = self.here();
        self.bump();
        self.bump();
        self.skip_spaces();
        let start = self.pos;
        if self.peek() == Some('#') {
            self.bump();
            let name = self.name();
            if !is_valid_name(&name) {
                return Err(self.rest_of_expr(at, start));
            }
            self.expect_close(at, "an expression after \"${#NAME\"")?;
            self.uses.push((name.clone(), at, self.plain_use()));
            return Ok(Expr { name, op: Op::Length });
        }
        let name = self.name();
        if name.is_empty() {
            return match self.peek() {
                Some('}') => Err(ParseError::EmptyName { at }),
                None => Err(ParseError::Unterminated { at }),
                _ => Err(self.rest_of_expr(at, start)),
            };
        }
        if !is_valid_name(&name) {
            return Err(self.rest_of_expr(at, start));
        }
        self.skip_spaces();
        let (when_empty, op_char) = match (self.peek(), self.peek2()) {
            (Some(':'), Some(c @ ('-' | '=' | '+' | '?'))) => {
                self.bump();
                (true, c)
            }
            (Some(':'), _) => {
                return Err(ParseError::Unsupported {
                    what: format!("the substring expansion \"${{{name}:…}}\""),
                    at,
                });
            }
            (Some(c), _) => (false, c),
            (None, _) => return Err(ParseError::Unterminated { at }),
        };
        let op = match op_char {
            '}' => {
                self.bump();
                self.uses.push((name.clone(), at, self.plain_use()));
                Op::Value
            }
            '-' | '=' => {
                self.bump();
                let start = self.pos;
                let arg = self.argument(at)?;
                let raw = self.src[start..self.pos - 1].to_owned();
                self.uses.push((name.clone(), at, Use::Default(raw.clone())));
                Op::Default { when_empty, arg, raw }
            }
            '+' => {
                self.bump();
                self.uses.push((name.clone(), at, Use::Optional));
                Op::Alternate {
                    when_empty,
                    arg: self.argument(at)?,
                }
            }
            '?' => {
                self.bump();
                self.uses.push((name.clone(), at, self.plain_use()));
                Op::Required {
                    when_empty,
                    message: self.argument(at)?,
                }
            }
            '^' | ',' => {
                self.bump();
                let all = self.peek() == Some(op_char);
                if all {
                    self.bump();
                }
                self.expect_close(at, &format!("the expression \"${{{name}{op_char}…\""))?;
                self.uses.push((name.clone(), at, self.plain_use()));
                if op_char == '^' {
                    Op::Upper { all }
                } else {
                    Op::Lower { all }
                }
            }
            '#' | '%' => {
                return Err(ParseError::Unsupported {
                    what: format!("the pattern removal \"${{{name}{op_char}…}}\""),
                    at,
                });
            }
            '/' => {
                return Err(ParseError::Unsupported {
                    what: format!("the replacement \"${{{name}/…}}\""),
                    at,
                });
            }
            '\n' => return Err(ParseError::Unterminated { at }),
            _ => return Err(self.rest_of_expr(at, start)),
        };
        Ok(Expr { name, op })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn expand(text: &str, pairs: &[(&str, &str)]) -> Result<String, Missing> {
        Template::parse(text).expect("parses").expand(&vars(pairs))
    }

    fn missing(names: &[&str]) -> Missing {
        Missing {
            names: names.iter().map(|s| s.to_string()).collect(),
            messages: BTreeMap::new(),
        }
    }

    fn at(line: usize, column: usize) -> Position {
        Position { line, column }
    }

    #[test]
    fn plain_variable() {
        assert_eq!(expand("name: ${NAME}", &[("NAME", "demo")]).unwrap(), "name: demo");
        assert_eq!(expand("${A}${B}", &[("A", "x"), ("B", "y")]).unwrap(), "xy");
        assert_eq!(expand("empty: '${A}'", &[("A", "")]).unwrap(), "empty: ''");
        assert_eq!(expand("${ NAME }", &[("NAME", "demo")]).unwrap(), "demo");
    }

    #[test]
    fn defaults_with_colon_cover_unset_and_empty() {
        for form in [":=", ":-"] {
            let text = format!("${{V{form}d}}");
            assert_eq!(expand(&text, &[]).unwrap(), "d");
            assert_eq!(expand(&text, &[("V", "")]).unwrap(), "d");
            assert_eq!(expand(&text, &[("V", "x")]).unwrap(), "x");
        }
    }

    #[test]
    fn defaults_without_colon_keep_an_empty_value() {
        for form in ["=", "-"] {
            let text = format!("${{V{form}d}}");
            assert_eq!(expand(&text, &[]).unwrap(), "d");
            assert_eq!(expand(&text, &[("V", "")]).unwrap(), "");
        }
    }

    #[test]
    fn defaults_nest_and_their_braces_pair_up() {
        let text = "${VNET:=${CLUSTER_NAME}-vnet}";
        assert_eq!(expand(text, &[("CLUSTER_NAME", "c1")]).unwrap(), "c1-vnet");
        assert_eq!(expand(text, &[("VNET", "mine")]).unwrap(), "mine");
        assert_eq!(expand(text, &[]).unwrap_err(), missing(&["CLUSTER_NAME"]));
        assert_eq!(expand("${A:=${B:=${C:=deep}}}", &[]).unwrap(), "deep");
        assert_eq!(expand("spec: ${SPEC:={}}", &[]).unwrap(), "spec: {}");
        assert_eq!(expand("${L:=[\"10.0.0.0/8\"]}", &[]).unwrap(), "[\"10.0.0.0/8\"]");
        assert_eq!(expand("${M:={a: {b: 1}}} end", &[]).unwrap(), "{a: {b: 1}} end");
    }

    #[test]
    fn empty_default_is_optional() {
        assert_eq!(expand("x${V:=}y", &[]).unwrap(), "xy");
        let t = Template::parse("${V:=}").unwrap();
        assert!(!t.variables()[0].required);
        assert_eq!(t.variables()[0].default.as_deref(), Some(""));
    }

    #[test]
    fn alternate_and_required_message() {
        assert_eq!(expand("${V:+yes}", &[("V", "1")]).unwrap(), "yes");
        assert_eq!(expand("${V:+yes}", &[("V", "")]).unwrap(), "");
        assert_eq!(expand("${V+yes}", &[("V", "")]).unwrap(), "yes");
        assert_eq!(expand("${V:+yes}", &[]).unwrap(), "");
        let err = expand("${TOKEN:?the Hetzner API token}", &[]).unwrap_err();
        assert_eq!(err.names, missing(&["TOKEN"]).names);
        assert_eq!(err.messages["TOKEN"], "the Hetzner API token");
        assert_eq!(expand("${V:?x}", &[("V", "ok")]).unwrap(), "ok");
        assert!(expand("${V:?x}", &[("V", "")]).is_err());
        assert_eq!(expand("${V?x}", &[("V", "")]).unwrap(), "");
    }

    #[test]
    fn length_and_case() {
        assert_eq!(expand("${#V}", &[("V", "héllo")]).unwrap(), "5");
        assert_eq!(expand("${V^}|${V^^}", &[("V", "abc")]).unwrap(), "Abc|ABC");
        assert_eq!(expand("${V,}|${V,,}", &[("V", "ABC")]).unwrap(), "aBC|abc");
        assert_eq!(expand("${#V}", &[]).unwrap_err(), missing(&["V"]));
    }

    #[test]
    fn dollar_dollar_is_a_literal_dollar() {
        assert_eq!(expand("$${V}", &[]).unwrap(), "${V}");
        assert_eq!(expand("cost: 5$$", &[]).unwrap(), "cost: 5$");
        assert_eq!(expand("$$$${V}", &[]).unwrap(), "$${V}");
        assert_eq!(expand("$$${V}", &[("V", "x")]).unwrap(), "$x");
    }

    #[test]
    fn bare_dollar_forms_stay_as_written() {
        let script = "echo $HOME $(hostname) $1 $ done";
        assert_eq!(expand(script, &[("HOME", "/nope")]).unwrap(), script);
        assert_eq!(expand("trailing $", &[]).unwrap(), "trailing $");
    }

    #[test]
    fn every_missing_variable_is_reported_once_sorted() {
        let err = expand("${B} ${A} ${B} ${C:=${D}} ${E:=ok}", &[]).unwrap_err();
        assert_eq!(err, missing(&["A", "B", "D"]));
    }

    #[test]
    fn fallbacks_rank_below_template_defaults() {
        struct WithFallback;
        impl Lookup for WithFallback {
            fn value(&self, _: &str) -> Option<String> {
                None
            }
            fn fallback(&self, name: &str) -> Option<String> {
                (name == "V").then(|| "fallback".to_owned())
            }
        }
        let t = Template::parse("${V} ${V:=template}").unwrap();
        assert_eq!(t.expand(&WithFallback).unwrap(), "fallback template");
    }

    #[test]
    fn unterminated_expressions_point_at_their_start() {
        assert_eq!(
            Template::parse("a: ${V").unwrap_err(),
            ParseError::Unterminated { at: at(1, 4) }
        );
        assert_eq!(
            Template::parse("x\n  ${V:=abc").unwrap_err(),
            ParseError::Unterminated { at: at(2, 3) }
        );
        assert_eq!(
            Template::parse("${").unwrap_err(),
            ParseError::Unterminated { at: at(1, 1) }
        );
        assert_eq!(
            Template::parse("${A:=${B}").unwrap_err(),
            ParseError::Unterminated { at: at(1, 1) }
        );
        assert_eq!(
            Template::parse("${V\n}").unwrap_err(),
            ParseError::Unterminated { at: at(1, 1) }
        );
        let msg = Template::parse("a: ${V").unwrap_err().to_string();
        assert_eq!(
            msg,
            "line 1, column 4: unterminated \"${\": add the closing \"}\" (or write \"$$\" for a literal \"$\")"
        );
    }

    #[test]
    fn invalid_names_are_named() {
        let invalid = |text: &str| match Template::parse(text).unwrap_err() {
            ParseError::InvalidName { name, .. } => name,
            other => panic!("expected an invalid name, got {other:?}"),
        };
        assert_eq!(invalid("${1ABC}"), "1ABC");
        assert_eq!(invalid("${FOO BAR}"), "FOO BAR");
        assert_eq!(invalid("${FOO.BAR}"), "FOO.BAR");
        assert_eq!(invalid("${-X}"), "-X");
        assert_eq!(invalid("${é}"), "é");
        assert_eq!(
            Template::parse("${}").unwrap_err(),
            ParseError::EmptyName { at: at(1, 1) }
        );
        assert!(
            Template::parse("  ${9}")
                .unwrap_err()
                .to_string()
                .starts_with("line 1, column 3: invalid variable name \"9\"")
        );
    }

    #[test]
    fn unsupported_forms_are_errors() {
        for text in ["${V:1:2}", "${V#prefix}", "${V%%suffix}", "${V/a/b}", "${V^x}"] {
            assert!(
                matches!(Template::parse(text), Err(ParseError::Unsupported { .. })),
                "{text} should be unsupported"
            );
        }
    }

    #[test]
    fn variables_say_required_and_default() {
        let t = Template::parse("${B:=x} ${A}\n${B} ${C:=${A}-c} ${D:+d} ${C:=other} ${E:+[${E}]} ${F:=${G}}").unwrap();
        let infos = t.variables();
        let summary: Vec<(&str, bool, Option<&str>)> = infos
            .iter()
            .map(|v| (v.name.as_str(), v.required, v.default.as_deref()))
            .collect();
        assert_eq!(
            summary,
            [
                ("A", true, None),
                ("B", true, Some("x")),
                ("C", false, Some("${A}-c")),
                ("D", false, None),
                ("E", false, None),
                ("F", false, Some("${G}")),
                ("G", false, None),
            ]
        );
        assert_eq!(infos[0].first_use, at(1, 9));
        assert_eq!(t.expand_default("C", &vars(&[("A", "a")])).unwrap().unwrap(), "a-c");
        assert!(t.expand_default("A", &vars(&[])).is_none());
    }

    #[test]
    fn multibyte_text_is_kept() {
        assert_eq!(expand("ü ${V} ✓", &[("V", "ß")]).unwrap(), "ü ß ✓");
        assert_eq!(
            Template::parse("ü ${").unwrap_err(),
            ParseError::Unterminated { at: at(1, 3) }
        );
    }

    #[test]
    fn valid_names() {
        assert!(is_valid_name("CLUSTER_NAME"));
        assert!(is_valid_name("_x1"));
        assert!(!is_valid_name("1X"));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name("A-B"));
    }
}
