//! Task file text → checked [`TaskFile`], every error with file, line, key and value.

use super::reader::{join, show, Cx, MAX_CHANNELS, R};
use super::rule::accuracy;
use super::{suggest, Dist, Epoch, Expr, FileError, Shape, Signal, TaskFile, Timing, VarDef};
use toml_edit::{ImDocument, Item, TableLike};

const TOP: &[&str] = &[
    "name",
    "description",
    "source",
    "n_in",
    "n_out",
    "t",
    "noise",
    "noise_amp",
    "timing",
    "trials",
    "gated_trials",
    "lstm_chrono_tmax",
    "vars",
    "epoch",
    "accuracy",
];
const DISTS: &[&str] = &[
    "choice",
    "uniform",
    "categories",
    "exponential",
    "pairs",
    "expr",
];

/// Parse and check a task file (`file` names it in errors).
pub fn parse(text: &str, file: &str) -> Result<TaskFile, FileError> {
    let cx = Cx { file, text };
    let doc = ImDocument::parse(text.to_string())
        .map_err(|e| cx.err(e.span(), "(syntax)", e.message().trim().to_string()))?;
    let root = doc.as_table();
    cx.keys(root, "", TOP)?;
    let top_span = Some(0..0);
    let name = cx.string(cx.req(root, top_span.clone(), "", "name")?, "name")?;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(cx.err(
            root.get("name").and_then(Item::span),
            "name",
            format!("is {name:?}, must be non-empty letters, digits, - or _"),
        ));
    }
    let opt_str =
        |k: &str| -> R<String> { root.get(k).map_or(Ok(String::new()), |i| cx.string(i, k)) };
    let description = opt_str("description")?;
    let source = opt_str("source")?;
    let n_in = cx.uint(
        cx.req(root, top_span.clone(), "", "n_in")?,
        "n_in",
        1,
        MAX_CHANNELS,
    )?;
    let n_out = cx.uint(
        cx.req(root, top_span.clone(), "", "n_out")?,
        "n_out",
        1,
        MAX_CHANNELS,
    )?;
    let noise = root
        .get("noise")
        .map_or(Ok(0.0), |i| cx.nonneg(i, "noise"))?;
    let noise_amp = match root.get("noise_amp") {
        None => None,
        Some(i) => {
            if root.contains_key("noise") {
                return Err(cx.err(
                    i.span(),
                    "noise_amp",
                    "is given with `noise`: give one of them (noise σ, or the per-step amplitude)",
                ));
            }
            Some(cx.expr(i, "noise_amp", &["dt".to_string(), "tau".to_string()])?)
        }
    };
    let timing = match root.get("timing") {
        None => Timing::Rounded,
        Some(i) => match cx.string(i, "timing")?.as_str() {
            "rounded" => Timing::Rounded,
            "exact" => Timing::Exact,
            o => {
                return Err(cx.err(
                    i.span(),
                    "timing",
                    format!(
                        "is {o:?}, must be \"rounded\" or \"exact\"{}",
                        suggest(o, ["rounded", "exact"].into_iter())
                    ),
                ))
            }
        },
    };
    let trials = root
        .get("trials")
        .map_or(Ok(20_000), |i| cx.uint(i, "trials", 1, 100_000_000))? as u64;
    let gated_trials = root
        .get("gated_trials")
        .map(|i| cx.uint(i, "gated_trials", 1, 100_000_000))
        .transpose()?
        .map(|n| n as u64);
    let lstm_chrono_tmax = root
        .get("lstm_chrono_tmax")
        .map(|i| cx.nonneg(i, "lstm_chrono_tmax"))
        .transpose()?;

    let mut var_names: Vec<String> = Vec::new();
    let mut vars = Vec::new();
    if let Some(item) = root.get("vars") {
        let t = cx.table(item, "vars")?;
        for (k, it) in t.iter() {
            let key = join("vars", k);
            vars.push(var_def(&cx, k, it, &key, &mut var_names)?);
        }
    }

    let epochs_item = cx.req(root, top_span.clone(), "", "epoch")?;
    let aot = epochs_item.as_array_of_tables().ok_or_else(|| {
        cx.err(
            epochs_item.span(),
            "epoch",
            format!(
                "must be an array of tables ([[epoch]]), got {}",
                show(epochs_item)
            ),
        )
    })?;
    if aot.is_empty() {
        return Err(cx.err(epochs_item.span(), "epoch", "has no epochs"));
    }
    // Epoch durations become variables `<epoch>_ms` after the file's own.
    let mut all_names = var_names.clone();
    for t in aot.iter() {
        if let Some(n) = t.get("name").and_then(Item::as_str) {
            all_names.push(format!("{n}_ms"));
        }
    }
    let mut epochs: Vec<Epoch> = Vec::new();
    for (i, t) in aot.iter().enumerate() {
        let path = format!("epoch[{i}]");
        cx.keys(
            t,
            &path,
            &[
                "name",
                "duration",
                "inputs",
                "targets",
                "mask",
                "open_start",
            ],
        )?;
        let name_item = cx.req(t, t.span(), &path, "name")?;
        let ename = cx.string(name_item, &join(&path, "name"))?;
        if epochs.iter().any(|e| e.name == ename) {
            return Err(cx.err(
                name_item.span(),
                &join(&path, "name"),
                format!("is {ename:?}, a name an earlier epoch already has"),
            ));
        }
        let dkey = join(&path, "duration");
        let duration = dist(
            &cx,
            cx.req(t, t.span(), &path, "duration")?,
            &dkey,
            &var_names,
            true,
        )?;
        if duration == Dist::Rest && (i + 1 != aot.len() || !root.contains_key("t")) {
            return Err(cx.err(
                t.get("duration").and_then(Item::span),
                &dkey,
                "is \"rest\" (until the end of the trial): only the last epoch may last the rest, and the file must set `t`",
            ));
        }
        let (lo, _) = duration.range();
        if lo < 0.0 {
            return Err(cx.err(
                t.get("duration").and_then(Item::span),
                &dkey,
                format!("can be {lo} ms; durations must be >= 0"),
            ));
        }
        let sig = |k: &str, n: usize| -> R<Vec<Signal>> {
            match t.get(k) {
                None => Ok(Vec::new()),
                Some(item) => signals(&cx, item, &join(&path, k), n, &all_names),
            }
        };
        let inputs = sig("inputs", n_in)?;
        let targets = sig("targets", n_out)?;
        let mask = t
            .get("mask")
            .map_or(Ok(1.0), |i| cx.nonneg(i, &join(&path, "mask")))?;
        let open_start = match t.get("open_start") {
            None => false,
            Some(o) => {
                let b = o.as_bool().ok_or_else(|| {
                    cx.err(
                        o.span(),
                        &join(&path, "open_start"),
                        format!("must be true or false, got {}", show(o)),
                    )
                })?;
                if b && timing != Timing::Exact {
                    return Err(cx.err(
                        o.span(),
                        &join(&path, "open_start"),
                        "applies only with `timing = \"exact\"` (rounded epochs have no edge times)",
                    ));
                }
                b
            }
        };
        epochs.push(Epoch {
            name: ename,
            duration,
            inputs,
            targets,
            mask,
            open_start,
        });
    }
    var_names = all_names;

    let longest: f64 = epochs.iter().map(|e| e.duration.range().1).sum();
    let t_ms = match root.get("t") {
        Some(i) => {
            let t = cx.num(i, "t")?;
            if t <= 0.0 {
                return Err(cx.err(i.span(), "t", format!("is {t}, must be > 0 ms")));
            }
            if longest > t * (1.0 + 1e-9) {
                let detail: Vec<String> = epochs
                    .iter()
                    .map(|e| format!("{} {}", e.name, e.duration.range().1))
                    .collect();
                return Err(cx.err(
                    i.span(),
                    "t",
                    format!(
                        "is {t} ms, shorter than the epochs at their longest: {longest} ms ({})",
                        detail.join(" + ")
                    ),
                ));
            }
            t
        }
        None => longest,
    };
    if t_ms <= 0.0 {
        return Err(cx.err(
            epochs_item.span(),
            "epoch",
            "every epoch lasts 0 ms: the trial is empty",
        ));
    }

    let acc_item = cx.req(root, top_span, "", "accuracy")?;
    let acc = cx.table(acc_item, "accuracy")?;
    let (accuracy_epochs, rule, only) =
        accuracy(&cx, acc, acc_item.span(), &epochs, n_out, &var_names)?;
    Ok(TaskFile {
        name,
        description,
        source,
        n_in,
        n_out,
        t_ms,
        noise,
        noise_amp,
        timing,
        trials,
        gated_trials,
        lstm_chrono_tmax,
        var_names,
        vars,
        epochs,
        accuracy_epochs,
        rule,
        only,
        text: text.to_string(),
    })
}

fn var_def(cx: &Cx, name: &str, item: &Item, key: &str, names: &mut Vec<String>) -> R<VarDef> {
    let fresh = |n: &str, names: &Vec<String>| -> R<()> {
        if names.iter().any(|v| v == n) {
            return Err(cx.err(
                item.span(),
                key,
                format!("defines {n:?}, a variable already defined"),
            ));
        }
        if !n
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            || !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            || n == "pi"
        {
            return Err(cx.err(
                item.span(),
                key,
                format!("names a variable {n:?}; use letters, digits and _ (not `pi`)"),
            ));
        }
        Ok(())
    };
    if let Some(t) = item.as_table_like().filter(|t| t.contains_key("pairs")) {
        cx.keys(t, key, &["pairs", "names", "shuffle"])?;
        let p = t.get("pairs").unwrap_or(item);
        let arr = p.as_array().ok_or_else(|| {
            cx.err(
                p.span(),
                &join(key, "pairs"),
                format!("must be an array of [a, b] pairs, got {}", show(p)),
            )
        })?;
        let mut pairs = Vec::new();
        for v in arr.iter() {
            let it = Item::Value(v.clone());
            let xs = cx.nums(&it, &join(key, "pairs")).map_err(|e| FileError {
                line: cx.err(v.span(), "", "").line,
                ..e
            })?;
            if xs.len() != 2 {
                return Err(cx.err(
                    v.span(),
                    &join(key, "pairs"),
                    format!(
                        "has {}, each pair must have 2 numbers",
                        v.to_string().trim()
                    ),
                ));
            }
            pairs.push((xs[0], xs[1]));
        }
        if pairs.is_empty() {
            return Err(cx.err(
                p.span(),
                &join(key, "pairs"),
                "is empty: give at least one pair",
            ));
        }
        let (a, b) = match t.get("names") {
            Some(n) => {
                let arr = n
                    .as_array()
                    .filter(|a| a.len() == 2 && a.iter().all(|v| v.as_str().is_some()));
                let Some(arr) = arr else {
                    return Err(cx.err(
                        n.span(),
                        &join(key, "names"),
                        format!("is {}, must be two strings", show(n)),
                    ));
                };
                let s: Vec<String> = arr
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect();
                (s[0].clone(), s[1].clone())
            }
            None => (format!("{name}_1"), format!("{name}_2")),
        };
        let shuffle = match t.get("shuffle") {
            None => false,
            Some(s) => s.as_bool().ok_or_else(|| {
                cx.err(
                    s.span(),
                    &join(key, "shuffle"),
                    format!("must be true or false, got {}", show(s)),
                )
            })?,
        };
        fresh(&a, names)?;
        names.push(a);
        fresh(&b, names)?;
        names.push(b);
        return Ok(VarDef::Pairs {
            a: names.len() - 2,
            b: names.len() - 1,
            pairs,
            shuffle,
        });
    }
    let d = dist(cx, item, key, names, false)?;
    fresh(name, names)?;
    names.push(name.to_string());
    Ok(VarDef::One(names.len() - 1, d))
}

/// A distribution: a number, an expression string (variables only), or a one-key table.
fn dist(cx: &Cx, item: &Item, key: &str, vars: &[String], duration: bool) -> R<Dist> {
    if item.as_str().is_some() {
        if duration && item.as_str() == Some("rest") {
            return Ok(Dist::Rest);
        }
        if duration {
            return Err(cx.err(
                item.span(),
                key,
                format!(
                    "is {}; a computed duration needs bounds: {{ expr = \"...\", max = MS }}",
                    show(item)
                ),
            ));
        }
        return Ok(Dist::Expr(
            cx.expr(item, key, vars)?,
            f64::NEG_INFINITY,
            f64::INFINITY,
        ));
    }
    if let Some(t) = item.as_table_like() {
        let kinds: Vec<&str> = t
            .iter()
            .map(|(k, _)| k)
            .filter(|k| DISTS.contains(k))
            .collect();
        let allowed: &[&str] = match kinds.first().copied() {
            Some("expr") => &["expr", "min", "max"],
            Some("uniform") => &["uniform", "f32"],
            Some("choice") => &["choice", "f32"],
            Some(k) => std::slice::from_ref(DISTS.iter().find(|d| **d == k).unwrap_or(&"choice")),
            None => DISTS,
        };
        cx.keys(t, key, allowed)?;
        if kinds.len() != 1 {
            return Err(cx.err(
                item.span(),
                key,
                format!(
                    "is {}; give exactly one of: {}",
                    show(item),
                    DISTS.join(", ")
                ),
            ));
        }
        let k = kinds[0];
        let sub = join(key, k);
        let v = t.get(k).unwrap_or(item);
        // `f32 = true`: drawn in single precision (uniform) / values rounded to f32 (choice)
        let single = match t.get("f32") {
            None => false,
            Some(b) => b.as_bool().ok_or_else(|| {
                cx.err(
                    b.span(),
                    &join(key, "f32"),
                    format!("must be true or false, got {}", show(b)),
                )
            })?,
        };
        return match k {
            "choice" => {
                let c = cx.nums(v, &sub)?;
                if c.is_empty() {
                    return Err(cx.err(v.span(), &sub, "is empty: give at least one value"));
                }
                if single {
                    return Ok(Dist::Choice(c.into_iter().map(super::expr::r32).collect()));
                }
                Ok(Dist::Choice(c))
            }
            "uniform" => {
                let c = cx.nums(v, &sub)?;
                if c.len() != 2 || c[0] > c[1] {
                    return Err(cx.err(
                        v.span(),
                        &sub,
                        format!("is {}, must be [low, high] with low <= high", show(v)),
                    ));
                }
                if single {
                    return Ok(Dist::UniformF32(c[0], c[1]));
                }
                Ok(Dist::Uniform(c[0], c[1]))
            }
            "categories" => Ok(Dist::Categories(cx.uint(v, &sub, 1, 1_000_000)?)),
            "exponential" => {
                let e = cx.table(v, &sub)?;
                cx.keys(e, &sub, &["mean", "min", "max"])?;
                let g = |n: &str| -> R<f64> {
                    cx.nonneg(cx.req(e, v.span(), &sub, n)?, &join(&sub, n))
                };
                let (mean, min, max) = (g("mean")?, g("min")?, g("max")?);
                if mean <= 0.0 || max < min {
                    return Err(cx.err(
                        v.span(),
                        &sub,
                        format!(
                            "has mean {mean}, min {min}, max {max}: need mean > 0 and min <= max"
                        ),
                    ));
                }
                Ok(Dist::Exponential { mean, min, max })
            }
            "pairs" => Err(cx.err(
                v.span(),
                &sub,
                "pairs define two variables; they are allowed only directly under [vars]",
            )),
            _ => {
                let e = cx.expr(v, &sub, vars)?;
                let b = |n: &str, d: f64| t.get(n).map_or(Ok(d), |i| cx.num(i, &join(key, n)));
                let (lo, hi) = (b("min", f64::NEG_INFINITY)?, b("max", f64::INFINITY)?);
                if duration && !hi.is_finite() {
                    return Err(cx.err(
                        item.span(),
                        key,
                        "a computed duration needs `max` (ms), the longest it may be",
                    ));
                }
                if duration && lo == f64::NEG_INFINITY {
                    return Ok(Dist::Expr(e, 0.0, hi));
                }
                if lo > hi {
                    return Err(cx.err(item.span(), key, format!("has min {lo} > max {hi}")));
                }
                Ok(Dist::Expr(e, lo, hi))
            }
        };
    }
    Ok(Dist::Const(cx.num(item, key).map_err(|_| {
        cx.err(
            item.span(),
            key,
            format!(
                "must be a number, an expression string or a table {{ {} = ... }}, got {}",
                DISTS.join(" | "),
                show(item)
            ),
        )
    })?))
}

fn signals(cx: &Cx, item: &Item, key: &str, n: usize, vars: &[String]) -> R<Vec<Signal>> {
    let arr = item.as_array().ok_or_else(|| cx.err(item.span(), key, format!("must be an array of {{ channel = .., value = .. }} or {{ ring = [first, count], angle = .. }}, got {}", show(item))))?;
    let mut out = Vec::new();
    for (j, v) in arr.iter().enumerate() {
        let k = format!("{key}[{j}]");
        let it = Item::Value(v.clone());
        let span = v.span();
        let t: &dyn TableLike = v
            .as_inline_table()
            .map(|t| t as &dyn TableLike)
            .ok_or_else(|| {
                cx.err(
                    span.clone(),
                    &k,
                    format!("must be an inline table, got {}", show(&it)),
                )
            })?;
        let line = |e: FileError| FileError {
            line: e.line.or_else(|| cx.err(span.clone(), "", "").line),
            ..e
        };
        if t.contains_key("ring") {
            cx.keys(
                t,
                &k,
                &["ring", "angle", "scale", "shape", "width", "positions"],
            )
            .map_err(line)?;
            let r = cx
                .nums(t.get("ring").unwrap_or(&it), &join(&k, "ring"))
                .map_err(line)?;
            if r.len() != 2
                || r.iter().any(|x| x.fract() != 0.0 || *x < 0.0)
                || r[1] < 1.0
                || r[0] + r[1] > n as f64
            {
                return Err(line(cx.err(
                    span.clone(),
                    &join(&k, "ring"),
                    format!("is {r:?}, must be [first, count] with first + count <= {n} channels"),
                )));
            }
            let angle = cx
                .expr(
                    cx.req(t, span.clone(), &k, "angle").map_err(line)?,
                    &join(&k, "angle"),
                    vars,
                )
                .map_err(line)?;
            let scale = t
                .get("scale")
                .map_or(Ok(Expr::Num(1.0)), |s| cx.expr(s, &join(&k, "scale"), vars))
                .map_err(line)?;
            let shape = t
                .get("shape")
                .map_or(Ok("cosine".to_string()), |s| {
                    cx.string(s, &join(&k, "shape"))
                })
                .map_err(line)?;
            let width = || {
                cx.nonneg(
                    cx.req(t, span.clone(), &k, "width").map_err(line)?,
                    &join(&k, "width"),
                )
                .map_err(line)
            };
            const SHAPES: [&str; 4] = ["cosine", "gaussian", "normal", "onehot"];
            let shape = match shape.as_str() {
                "cosine" => Shape::Cosine,
                "onehot" => Shape::OneHot,
                "gaussian" => Shape::Gaussian(width()?),
                "normal" => Shape::Normal(width()?),
                s => {
                    return Err(line(cx.err(
                        span.clone(),
                        &join(&k, "shape"),
                        format!(
                            "is {s:?}, must be one of {}{}",
                            SHAPES.join(", "),
                            suggest(s, SHAPES.into_iter())
                        ),
                    )))
                }
            };
            let linspace = match t.get("positions") {
                None => false,
                Some(p) => match cx.string(p, &join(&k, "positions")).map_err(line)?.as_str() {
                    "circle" => false,
                    "linspace" => true,
                    o => {
                        return Err(line(cx.err(
                            span.clone(),
                            &join(&k, "positions"),
                            format!("is {o:?}, must be \"circle\" or \"linspace\""),
                        )))
                    }
                },
            };
            if linspace && r[1] < 2.0 {
                return Err(line(cx.err(
                    span.clone(),
                    &join(&k, "positions"),
                    "is \"linspace\", which needs a ring of at least 2 channels",
                )));
            }
            out.push(Signal::Ring {
                first: r[0] as usize,
                count: r[1] as usize,
                angle,
                scale,
                shape,
                linspace,
            });
        } else {
            cx.keys(t, &k, &["channel", "value"]).map_err(line)?;
            let ch = cx.req(t, span.clone(), &k, "channel").map_err(line)?;
            let channel = cx
                .uint(ch, &join(&k, "channel"), 0, n.saturating_sub(1))
                .map_err(line)?;
            let value = cx
                .expr(
                    cx.req(t, span.clone(), &k, "value").map_err(line)?,
                    &join(&k, "value"),
                    vars,
                )
                .map_err(line)?;
            out.push(Signal::Channel { channel, value });
        }
    }
    Ok(out)
}
