//! A small tree printer: `├─`, `└─` and `│` chrome, dimmed when colouring.

use super::style::Style;

/// One line of the tree with the lines below it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Node {
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    pub fn new(text: impl Into<String>) -> Self {
        Node {
            text: text.into(),
            children: Vec::new(),
        }
    }

    #[cfg(test)]
    pub fn with(mut self, children: Vec<Node>) -> Self {
        self.children = children;
        self
    }

    pub fn push(&mut self, child: Node) {
        self.children.push(child);
    }
}

/// The tree as text, one line per node, ending in a newline.
pub fn render(root: &Node, style: Style) -> String {
    let mut out = String::new();
    out.push_str(&root.text);
    out.push('\n');
    render_children(&root.children, "", style, &mut out);
    out
}

fn render_children(children: &[Node], prefix: &str, style: Style, out: &mut String) {
    for (i, child) in children.iter().enumerate() {
        let last = i + 1 == children.len();
        let branch = if last { "└─ " } else { "├─ " };
        out.push_str(&style.dim(&format!("{prefix}{branch}")));
        out.push_str(&child.text);
        out.push('\n');
        let next = format!("{prefix}{}", if last { "   " } else { "│  " });
        render_children(&child.children, &next, style, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_hang_off_their_parents() {
        let tree = Node::new("root").with(vec![
            Node::new("a").with(vec![Node::new("a1"), Node::new("a2")]),
            Node::new("b").with(vec![Node::new("b1")]),
        ]);
        let text = render(&tree, Style { color: false });
        assert_eq!(text, "root\n├─ a\n│  ├─ a1\n│  └─ a2\n└─ b\n   └─ b1\n");
    }
}
