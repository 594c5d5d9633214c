//! Expressions of task files: `"coherence * (2*direction - 1)"`, `"if(ctx == 0, m1, m2)"`.
//!
//! Written by hand because the language is tiny and must be `f64`-only (the general
//! expression crates add integer division, where `1/2` is `0`, a trap in a task file) and
//! must name the unknown variable with the nearest known one. Grammar, loosest first:
//! `a || b`, `a && b`, comparisons `== != < <= > >=` (1 or 0), `+ -`, `* / %`, unary
//! `- !`, `a ^ b` (right-assoc.), then numbers, `pi`, variables, `f(args)` with
//! `abs sign sqrt exp log sin cos floor round min max if(cond, a, b)`, and `( … )`.
//! `f32(e)` evaluates `e` in single precision (every number, variable and result rounded
//! to `f32`), so a file can reproduce a single-precision reference implementation bit for
//! bit (the PsychRNN tasks' Rust ports compute their inputs in `f32`).

/// A parsed expression; variables are indices into the task's variable list.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A number.
    Num(f64),
    /// Variable by index.
    Var(usize),
    /// Unary minus.
    Neg(Box<Expr>),
    /// Logical not (1 if the operand is 0).
    Not(Box<Expr>),
    /// Binary operator.
    Bin(Op, Box<Expr>, Box<Expr>),
    /// Function call.
    Call(Func, Vec<Expr>),
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%` (Euclidean remainder: never negative for a positive divisor)
    Rem,
    /// `^`
    Pow,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `&&`
    And,
    /// `||`
    Or,
}

/// Functions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Func {
    /// `abs(x)`
    Abs,
    /// `sign(x)`: −1, 0 or 1.
    Sign,
    /// `sqrt(x)`
    Sqrt,
    /// `exp(x)`
    Exp,
    /// `log(x)` (natural)
    Log,
    /// `sin(x)`
    Sin,
    /// `cos(x)`
    Cos,
    /// `floor(x)`
    Floor,
    /// `round(x)`
    Round,
    /// `min(a, b)`
    Min,
    /// `max(a, b)`
    Max,
    /// `if(cond, a, b)`: `a` if `cond` ≠ 0.
    If,
    /// `f32(x)`: `x` evaluated in single precision (every number, variable and
    /// intermediate result rounded to `f32`; `+ − × ÷ √` are then exactly `f32` arithmetic).
    F32,
}

const FUNCS: [(&str, Func, usize); 13] = [
    ("abs", Func::Abs, 1),
    ("sign", Func::Sign, 1),
    ("sqrt", Func::Sqrt, 1),
    ("exp", Func::Exp, 1),
    ("log", Func::Log, 1),
    ("sin", Func::Sin, 1),
    ("cos", Func::Cos, 1),
    ("floor", Func::Floor, 1),
    ("round", Func::Round, 1),
    ("min", Func::Min, 2),
    ("max", Func::Max, 2),
    ("if", Func::If, 3),
    ("f32", Func::F32, 1),
];

/// `x` rounded to the nearest `f32` (as `f64`).
pub fn r32(x: f64) -> f64 {
    f64::from(x as f32)
}

impl Expr {
    /// Parse `src`; `vars` are the variables it may use, by name.
    pub fn parse(src: &str, vars: &[String]) -> Result<Expr, String> {
        let mut p = Parser {
            s: src.as_bytes(),
            i: 0,
            vars,
        };
        let e = p.or()?;
        p.ws();
        if p.i < p.s.len() {
            return Err(format!(
                "unexpected {:?} at column {}",
                &src[p.i..],
                p.i + 1
            ));
        }
        Ok(e)
    }

    /// Value with the variables `v` (the indices [`Expr::parse`] resolved).
    pub fn eval(&self, v: &[f64]) -> f64 {
        self.eval_in(v, false)
    }

    /// Value in double precision, or with every number, variable and result rounded to
    /// `f32` (`single`: inside `f32(…)`). An `f64` operation on two `f32` values, rounded
    /// to `f32`, is the `f32` operation for `+ − × ÷ √` (53 ≥ 2·24 + 2 bits).
    fn eval_in(&self, v: &[f64], single: bool) -> f64 {
        let r = |x: f64| if single { r32(x) } else { x };
        let b = |x: bool| if x { 1.0 } else { 0.0 };
        match self {
            Expr::Num(x) => r(*x),
            Expr::Var(i) => r(v.get(*i).copied().unwrap_or(f64::NAN)),
            Expr::Neg(a) => -a.eval_in(v, single),
            Expr::Not(a) => b(a.eval_in(v, single) == 0.0),
            Expr::Bin(op, a, c) => {
                let (x, y) = (a.eval_in(v, single), c.eval_in(v, single));
                r(match op {
                    Op::Add => x + y,
                    Op::Sub => x - y,
                    Op::Mul => x * y,
                    Op::Div => x / y,
                    Op::Rem => x.rem_euclid(y),
                    Op::Pow => x.powf(y),
                    Op::Eq => b(x == y),
                    Op::Ne => b(x != y),
                    Op::Lt => b(x < y),
                    Op::Le => b(x <= y),
                    Op::Gt => b(x > y),
                    Op::Ge => b(x >= y),
                    Op::And => b(x != 0.0 && y != 0.0),
                    Op::Or => b(x != 0.0 || y != 0.0),
                })
            }
            Expr::Call(f, args) => {
                let a = |i: usize| args.get(i).map_or(f64::NAN, |e| e.eval_in(v, single));
                r(match f {
                    Func::Abs => a(0).abs(),
                    Func::Sign => {
                        let x = a(0);
                        if x > 0.0 {
                            1.0
                        } else if x < 0.0 {
                            -1.0
                        } else {
                            x
                        }
                    }
                    Func::Sqrt => a(0).sqrt(),
                    Func::Exp => a(0).exp(),
                    Func::Log => a(0).ln(),
                    Func::Sin => a(0).sin(),
                    Func::Cos => a(0).cos(),
                    Func::Floor => a(0).floor(),
                    Func::Round => a(0).round(),
                    Func::Min => a(0).min(a(1)),
                    Func::Max => a(0).max(a(1)),
                    Func::If => {
                        if a(0) != 0.0 {
                            a(1)
                        } else {
                            a(2)
                        }
                    }
                    Func::F32 => args.first().map_or(f64::NAN, |e| r32(e.eval_in(v, true))),
                })
            }
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    vars: &'a [String],
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, tok: &str) -> bool {
        self.ws();
        if self.s[self.i..].starts_with(tok.as_bytes()) {
            self.i += tok.len();
            true
        } else {
            false
        }
    }

    fn bin(
        &mut self,
        ops: &[(&str, Op)],
        next: fn(&mut Self) -> Result<Expr, String>,
    ) -> Result<Expr, String> {
        let mut e = next(self)?;
        'outer: loop {
            for (tok, op) in ops {
                // `<` must not eat the `<` of `<=` (longer tokens are listed first).
                if self.eat(tok) {
                    let r = next(self)?;
                    e = Expr::Bin(*op, Box::new(e), Box::new(r));
                    continue 'outer;
                }
            }
            return Ok(e);
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        self.bin(&[("||", Op::Or)], Self::and)
    }
    fn and(&mut self) -> Result<Expr, String> {
        self.bin(&[("&&", Op::And)], Self::cmp)
    }
    fn cmp(&mut self) -> Result<Expr, String> {
        self.bin(
            &[
                ("==", Op::Eq),
                ("!=", Op::Ne),
                ("<=", Op::Le),
                (">=", Op::Ge),
                ("<", Op::Lt),
                (">", Op::Gt),
            ],
            Self::sum,
        )
    }
    fn sum(&mut self) -> Result<Expr, String> {
        self.bin(&[("+", Op::Add), ("-", Op::Sub)], Self::prod)
    }
    fn prod(&mut self) -> Result<Expr, String> {
        self.bin(
            &[("*", Op::Mul), ("/", Op::Div), ("%", Op::Rem)],
            Self::unary,
        )
    }
    fn unary(&mut self) -> Result<Expr, String> {
        if self.eat("-") {
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        if self.s[self.i..].starts_with(b"!=") {
            return Err(format!("unexpected \"!=\" at column {}", self.i + 1));
        }
        if self.eat("!") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        let base = self.atom()?;
        if self.eat("^") {
            let exp = self.unary()?;
            return Ok(Expr::Bin(Op::Pow, Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    fn atom(&mut self) -> Result<Expr, String> {
        self.ws();
        let start = self.i;
        let Some(&c) = self.s.get(self.i) else {
            return Err("ends where a value was expected".into());
        };
        if self.eat("(") {
            let e = self.or()?;
            if !self.eat(")") {
                return Err(format!("missing `)` for the `(` at column {}", start + 1));
            }
            return Ok(e);
        }
        if c.is_ascii_digit() || c == b'.' {
            while self.i < self.s.len()
                && (self.s[self.i].is_ascii_digit()
                    || self.s[self.i] == b'.'
                    || ((self.s[self.i] == b'e' || self.s[self.i] == b'E')
                        && self.i + 1 < self.s.len())
                    || ((self.s[self.i] == b'-' || self.s[self.i] == b'+')
                        && matches!(self.s[self.i - 1], b'e' | b'E')))
            {
                self.i += 1;
            }
            let t = String::from_utf8_lossy(&self.s[start..self.i]);
            return t
                .parse::<f64>()
                .map(Expr::Num)
                .map_err(|_| format!("bad number {t:?} at column {}", start + 1));
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            while self.i < self.s.len()
                && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_')
            {
                self.i += 1;
            }
            let id = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
            if self.eat("(") {
                let Some(&(_, f, n)) = FUNCS.iter().find(|(k, _, _)| *k == id) else {
                    let names: Vec<&str> = FUNCS.iter().map(|f| f.0).collect();
                    return Err(format!(
                        "unknown function {id:?}{}; functions: {}",
                        super::suggest(&id, names.iter().copied()),
                        names.join(", ")
                    ));
                };
                let mut args = vec![self.or()?];
                while self.eat(",") {
                    args.push(self.or()?);
                }
                if !self.eat(")") {
                    return Err(format!("missing `)` after the arguments of {id}"));
                }
                if args.len() != n {
                    return Err(format!("{id} takes {n} argument(s), got {}", args.len()));
                }
                return Ok(Expr::Call(f, args));
            }
            if id == "pi" {
                return Ok(Expr::Num(std::f64::consts::PI));
            }
            return match self.vars.iter().position(|v| *v == id) {
                Some(i) => Ok(Expr::Var(i)),
                None => Err(format!(
                    "unknown variable {id:?}{}; variables defined before this point: {}",
                    super::suggest(&id, self.vars.iter().map(String::as_str)),
                    if self.vars.is_empty() {
                        "none".to_string()
                    } else {
                        self.vars.join(", ")
                    }
                )),
            };
        }
        Err(format!(
            "unexpected {:?} at column {}",
            String::from_utf8_lossy(&self.s[start..]),
            start + 1
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(s: &str, names: &[&str], v: &[f64]) -> f64 {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        Expr::parse(s, &names).unwrap().eval(v)
    }

    #[test]
    fn precedence_and_functions() {
        assert_eq!(ev("1 + 2 * 3", &[], &[]), 7.0);
        assert_eq!(ev("-2 ^ 2", &[], &[]), -4.0);
        assert_eq!(ev("2 ^ 3 ^ 2", &[], &[]), 512.0);
        assert_eq!(ev("1/2", &[], &[]), 0.5);
        assert_eq!(ev("7 % 4 + (1 <= 1) + (2 != 2)", &[], &[]), 4.0);
        assert_eq!(ev("if(a > 0, b, -b)", &["a", "b"], &[-1.0, 3.0]), -3.0);
        assert_eq!(ev("c * (2*d - 1)", &["c", "d"], &[0.5, 0.0]), -0.5);
        assert_eq!(ev("sign(-3) + max(1, 2e1) + !0", &[], &[]), 20.0);
        assert!((ev("cos(pi)", &[], &[]) + 1.0).abs() < 1e-12);
    }

    #[test]
    fn f32_is_single_precision_arithmetic() {
        // 0.4 + 0.8·(f − 10)/24 in f32, as the delayed-discrimination port computes it.
        for f in [10.0f32, 14.0, 18.0, 22.0, 26.0, 30.0, 34.0] {
            let want = 0.4f32 + 0.8f32 * (f - 10.0) / (34.0 - 10.0);
            let got = ev(
                "f32(0.4 + 0.8 * (f - 10) / (34 - 10))",
                &["f"],
                &[f64::from(f)],
            );
            assert_eq!(got.to_bits(), f64::from(want).to_bits(), "f = {f}");
        }
        // outside f32(…) the same expression is double precision, and differs
        let d = ev("0.4 + 0.8 * (f - 10) / (34 - 10)", &["f"], &[14.0]);
        assert_ne!(d, f64::from(0.4f32 + 0.8f32 * 4.0 / 24.0));
        assert_eq!(ev("f32(0.1)", &[], &[]), f64::from(0.1f32));
    }

    #[test]
    fn errors_name_the_problem() {
        let v = vec!["coherence".to_string()];
        let e = Expr::parse("coherense * 2", &v).unwrap_err();
        assert!(
            e.contains("\"coherense\"") && e.contains("coherence"),
            "{e}"
        );
        assert!(Expr::parse("(1 + 2", &v)
            .unwrap_err()
            .contains("missing `)`"));
        assert!(Expr::parse("1 +", &v).unwrap_err().contains("ends"));
        assert!(Expr::parse("foo(1)", &v)
            .unwrap_err()
            .contains("unknown function"));
        assert!(Expr::parse("max(1)", &v)
            .unwrap_err()
            .contains("2 argument"));
        assert!(Expr::parse("1 2", &v).unwrap_err().contains("column 3"));
    }
}
