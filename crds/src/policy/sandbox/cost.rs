//! A conservative estimate of what an expression costs, in the apiserver's units: one per node,
//! a comprehension its body times the length of the list it runs over, and a string function a
//! tenth of the string's length. Lengths are assumed when the policy is compiled (the object is
//! not known yet) and measured on the object when it is evaluated.

use kube_cel::cel::common::ast::{ComprehensionExpr, EntryExpr, Expr, LiteralValue};
use serde_json::Value;

use super::limits::{COST_BUDGET, CelLimitError, MAX_GENERATED_LIST};

/// The lengths an estimate assumes for what it cannot see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes {
    /// Elements of a list (or entries of a map) taken from the object.
    pub list: u64,
    /// Bytes of a string taken from the object.
    pub string: u64,
}

impl Sizes {
    /// What a compiled policy is held to: Clusters and MachineDeployments have short lists (tags,
    /// SSH keys, networks) and strings.
    pub const ASSUMED: Sizes = Sizes { list: 100, string: 256 };

    /// The longest list and string of an object, for the estimate at evaluation.
    pub fn of(object: &Value) -> Sizes {
        let mut sizes = Sizes { list: 0, string: 0 };
        let mut stack = vec![object];
        while let Some(v) = stack.pop() {
            match v {
                Value::Array(items) => {
                    sizes.list = sizes.list.max(items.len() as u64);
                    stack.extend(items);
                }
                Value::Object(map) => {
                    sizes.list = sizes.list.max(map.len() as u64);
                    for (k, v) in map {
                        sizes.string = sizes.string.max(k.len() as u64);
                        stack.push(v);
                    }
                }
                Value::String(s) => sizes.string = sizes.string.max(s.len() as u64),
                _ => {}
            }
        }
        sizes
    }
}

/// Functions whose cost grows with the strings (or lists) they read or make.
fn is_sized(function: &str) -> bool {
    matches!(
        function,
        "_+_"
            | "contains"
            | "startsWith"
            | "endsWith"
            | "matches"
            | "find"
            | "findAll"
            | "replace"
            | "split"
            | "indexOf"
            | "lastIndexOf"
            | "join"
            | "format"
            | "lowerAscii"
            | "upperAscii"
            | "trim"
            | "substring"
            | "reverse"
            | "base64.encode"
            | "base64.decode"
            | "strings.quote"
            | "string"
            | "sort"
            | "distinct"
            | "flatten"
            | "@in"
    )
}

/// Where the estimate stands: the cost so far, or why none can be given.
#[derive(Debug)]
struct Estimator {
    sizes: Sizes,
    unbounded_range: bool,
}

impl Estimator {
    /// The function a call names: `lists.range(…)` parses as `range` called on `lists`.
    fn function(call: &kube_cel::cel::common::ast::CallExpr) -> std::borrow::Cow<'_, str> {
        match call.target.as_deref().map(|t| &t.expr) {
            Some(Expr::Ident(ns)) if matches!(ns.as_str(), "lists" | "strings" | "base64" | "math" | "sets") => {
                format!("{ns}.{}", call.func_name).into()
            }
            _ => call.func_name.as_str().into(),
        }
    }

    fn literal_int(e: &Expr) -> Option<i64> {
        match e {
            Expr::Literal(LiteralValue::Int(n)) => Some(*n.inner()),
            _ => None,
        }
    }

    /// How many elements a list-valued expression may have.
    fn length(&mut self, e: &Expr) -> u64 {
        match e {
            Expr::List(l) => l.elements.len() as u64,
            Expr::Map(m) => m.entries.len() as u64,
            Expr::Call(c) if Self::function(c) == "lists.range" => c
                .args
                .first()
                .and_then(|a| Self::literal_int(&a.expr))
                .map_or(0, |n| n.max(0) as u64),
            Expr::Call(c) if c.func_name == "_+_" => {
                let left = c.args.first().map_or(0, |a| self.length(&a.expr));
                let right = c.args.get(1).map_or(0, |a| self.length(&a.expr));
                left.saturating_add(right)
            }
            Expr::Call(c) if c.func_name == "split" => self.sizes.string,
            Expr::Call(c) if c.func_name == "flatten" => {
                let outer = c.target.as_ref().map_or(self.sizes.list, |t| self.length(&t.expr));
                outer.saturating_mul(self.sizes.list.max(1))
            }
            // map and filter make at most as many elements as they read.
            Expr::Comprehension(c) => self.length(&c.iter_range.expr),
            _ => self.sizes.list,
        }
    }

    fn comprehension(&mut self, c: &ComprehensionExpr) -> u64 {
        let steps = self.length(&c.iter_range.expr);
        let body = 1u64
            .saturating_add(self.cost(&c.loop_cond.expr))
            .saturating_add(self.cost(&c.loop_step.expr));
        self.cost(&c.iter_range.expr)
            .saturating_add(self.cost(&c.accu_init.expr))
            .saturating_add(steps.saturating_mul(body))
            .saturating_add(self.cost(&c.result.expr))
    }

    fn cost(&mut self, e: &Expr) -> u64 {
        match e {
            Expr::Comprehension(c) => self.comprehension(c),
            Expr::Call(call) => {
                let mut total = 1u64;
                if let Some(t) = &call.target {
                    total = total.saturating_add(self.cost(&t.expr));
                }
                for a in &call.args {
                    total = total.saturating_add(self.cost(&a.expr));
                }
                let function = Self::function(call);
                if function == "lists.range" {
                    match call.args.first().and_then(|a| Self::literal_int(&a.expr)) {
                        Some(n) if (0..=MAX_GENERATED_LIST).contains(&n) => total = total.saturating_add(n as u64),
                        _ => self.unbounded_range = true,
                    }
                } else if is_sized(&function) {
                    total = total.saturating_add(self.sizes.string.div_ceil(10).max(self.sizes.list));
                }
                total
            }
            Expr::Select(s) => 1u64.saturating_add(self.cost(&s.operand.expr)),
            Expr::List(l) => l
                .elements
                .iter()
                .fold(1u64, |acc, e| acc.saturating_add(self.cost(&e.expr))),
            Expr::Map(m) => m
                .entries
                .iter()
                .fold(1u64, |acc, e| acc.saturating_add(self.entry(&e.expr))),
            Expr::Struct(s) => s
                .entries
                .iter()
                .fold(1u64, |acc, e| acc.saturating_add(self.entry(&e.expr))),
            Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => 1,
        }
    }

    fn entry(&mut self, e: &EntryExpr) -> u64 {
        match e {
            EntryExpr::StructField(f) => self.cost(&f.value.expr),
            EntryExpr::MapEntry(m) => self.cost(&m.key.expr).saturating_add(self.cost(&m.value.expr)),
        }
    }
}

/// The estimated cost of an expression with these lengths; `None` when it calls `lists.range`
/// with a bound that is not a literal within [`MAX_GENERATED_LIST`].
pub fn estimate(expr: &Expr, sizes: Sizes) -> Option<u64> {
    let mut estimator = Estimator {
        sizes,
        unbounded_range: false,
    };
    let cost = estimator.cost(expr);
    (!estimator.unbounded_range).then_some(cost)
}

/// Refuses an expression whose estimate with [`Sizes::ASSUMED`] is over [`COST_BUDGET`].
pub fn check(expr: &Expr) -> Result<u64, CelLimitError> {
    match estimate(expr, Sizes::ASSUMED) {
        None => Err(CelLimitError::UnboundedRange),
        Some(estimated) if estimated > COST_BUDGET => Err(CelLimitError::OverBudget { estimated }),
        Some(estimated) => Ok(estimated),
    }
}

#[cfg(test)]
mod tests {
    use kube_cel::cel::Program;

    use super::*;

    fn cost(source: &str) -> Option<u64> {
        estimate(&Program::compile(source).unwrap().expression().expr, Sizes::ASSUMED)
    }

    #[test]
    fn simple_rules_are_cheap() {
        assert!(cost("object.spec.replicas <= 3").unwrap() < 10);
        let names = cost("object.metadata.name.startsWith('team-a-')").unwrap();
        assert!((100..200).contains(&names), "{names}");
        let one_list = cost("object.spec.tags.all(t, t.size() < 64)").unwrap();
        assert!(one_list < 10_000, "{one_list}");
    }

    #[test]
    fn nested_comprehensions_multiply() {
        let ten = format!("[{}]", ["0"; 10].join(","));
        let mut nested = "x".to_owned();
        for v in ["a", "b", "c", "d", "e", "f", "g"] {
            nested = format!("{ten}.map({v}, {nested})");
        }
        let c = cost(&format!("size({nested}) > 0")).unwrap();
        assert!(c > 10_000_000, "{c}");
        assert!(matches!(
            check(
                &Program::compile(&format!("size({nested}) > 0"))
                    .unwrap()
                    .expression()
                    .expr
            ),
            Err(CelLimitError::OverBudget { .. })
        ));
        // Three object lists deep is over the budget, two is not.
        let two = cost("object.a.all(x, object.b.all(y, x != y))").unwrap();
        assert!(two < COST_BUDGET, "{two}");
        let three = cost("object.a.all(x, object.b.all(y, object.c.all(z, x != y && y != z)))").unwrap();
        assert!(three > COST_BUDGET, "{three}");
    }

    #[test]
    fn ranges_need_a_literal_bound() {
        assert_eq!(cost("lists.range(object.spec.replicas).size() > 0"), None);
        assert_eq!(cost("lists.range(100000000).size() > 0"), None);
        assert!(cost("lists.range(10).all(i, i < 10)").unwrap() < 100);
        let big = cost("lists.range(100000).all(i, lists.range(100000).all(j, true))").unwrap();
        assert!(big > COST_BUDGET, "{big}");
    }

    #[test]
    fn sizes_are_measured_on_the_object() {
        let object = serde_json::json!({"a": [1, 2, 3], "b": {"c": "x".repeat(5000)}});
        assert_eq!(Sizes::of(&object), Sizes { list: 3, string: 5000 });
    }
}
