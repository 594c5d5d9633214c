//! The `[accuracy]` table of a task file → the scored window and [`Rule`]
//! (`masked-argmax`, PsychRNN's rule, scores the whole trial and takes no window).

use super::reader::{show, Cx, R};
use super::{suggest, Epoch, Expr, FileError, Rule};
use std::ops::Range;
use toml_edit::{Item, TableLike};

/// `[accuracy]`: the window (first and last epoch, `epoch` and optional `until`), the rule
/// and which trials are scored (`only`).
pub(super) fn accuracy(
    cx: &Cx,
    t: &dyn TableLike,
    span: Option<Range<usize>>,
    epochs: &[Epoch],
    n_out: usize,
    vars: &[String],
) -> R<((usize, usize), Rule, Option<Expr>)> {
    cx.keys(
        t,
        "accuracy",
        &[
            "rule",
            "epoch",
            "channels",
            "channel",
            "expect",
            "level",
            "tolerance",
            "slack",
            "until",
            "only",
        ],
    )?;
    if t.get("rule").and_then(Item::as_str) == Some("masked-argmax") {
        cx.keys(t, "accuracy", &["rule"])?;
        return Ok(((0, epochs.len() - 1), Rule::MaskedArgmax, None));
    }
    let e_item = cx.req(t, span.clone(), "accuracy", "epoch")?;
    let en = cx.string(e_item, "accuracy.epoch")?;
    let Some(ei) = epochs.iter().position(|e| e.name == en) else {
        let names: Vec<&str> = epochs.iter().map(|e| e.name.as_str()).collect();
        return Err(cx.err(
            e_item.span(),
            "accuracy.epoch",
            format!(
                "is {en:?}, not an epoch{}; epochs: {}",
                suggest(&en, names.iter().copied()),
                names.join(", ")
            ),
        ));
    };
    let last = match t.get("until") {
        None => ei,
        Some(u) => {
            let un = cx.string(u, "accuracy.until")?;
            match epochs.iter().position(|e| e.name == un) {
                Some(li) if li >= ei => li,
                _ => {
                    return Err(cx.err(
                        u.span(),
                        "accuracy.until",
                        format!("is {un:?}, must name an epoch at or after {en:?}"),
                    ))
                }
            }
        }
    };
    if epochs[ei..=last]
        .iter()
        .all(|e| e.duration.range().1 <= 0.0)
    {
        return Err(cx.err(
            e_item.span(),
            "accuracy.epoch",
            format!("is {en:?}, a window that always lasts 0 ms: nothing to score"),
        ));
    }
    let r_item = cx.req(t, span.clone(), "accuracy", "rule")?;
    let rule = cx.string(r_item, "accuracy.rule")?;
    let expect = cx.expr(
        cx.req(t, span.clone(), "accuracy", "expect")?,
        "accuracy.expect",
        vars,
    )?;
    let only = |keys: &[&str]| -> R<()> {
        let mut allowed = vec!["rule", "epoch", "until", "expect", "only"];
        allowed.extend_from_slice(keys);
        cx.keys(t, "accuracy", &allowed)
    };
    let channel = || {
        cx.uint(
            cx.req(t, span.clone(), "accuracy", "channel")?,
            "accuracy.channel",
            0,
            n_out - 1,
        )
    };
    let level = || {
        t.get("level")
            .map_or(Ok(0.5), |i| cx.num(i, "accuracy.level"))
    };
    let rule =
        match rule.as_str() {
            "argmax" => {
                only(&["channels"])?;
                let channels = match t.get("channels") {
                    None => (0..n_out).collect(),
                    Some(c) => {
                        let arr = c.as_array().filter(|a| !a.is_empty()).ok_or_else(|| {
                            cx.err(
                                c.span(),
                                "accuracy.channels",
                                format!(
                                    "is {}, must be a non-empty array of output channels",
                                    show(c)
                                ),
                            )
                        })?;
                        arr.iter()
                            .map(|v| {
                                cx.uint(&Item::Value(v.clone()), "accuracy.channels", 0, n_out - 1)
                                    .map_err(|e| FileError {
                                        line: cx.err(c.span(), "", "").line,
                                        ..e
                                    })
                            })
                            .collect::<R<Vec<usize>>>()?
                    }
                };
                Rule::Argmax { channels, expect }
            }
            "sign" => {
                only(&["channel", "level"])?;
                Rule::Sign {
                    channel: channel()?,
                    level: level()?,
                    expect,
                }
            }
            "threshold" => {
                only(&["channel", "level", "tolerance", "slack"])?;
                let tolerance = t
                    .get("tolerance")
                    .map_or(Ok(0.2), |i| cx.nonneg(i, "accuracy.tolerance"))?;
                let slack = t
                    .get("slack")
                    .map_or(Ok(0.0), |i| cx.nonneg(i, "accuracy.slack"))?;
                Rule::Threshold {
                    channel: channel()?,
                    level: level()?,
                    expect,
                    tolerance,
                    slack,
                }
            }
            r => {
                return Err(cx.err(
                    r_item.span(),
                    "accuracy.rule",
                    format!(
                    "is {r:?}, must be \"argmax\", \"sign\", \"threshold\" or \"masked-argmax\"{}",
                    suggest(r, ["argmax", "sign", "threshold", "masked-argmax"].into_iter())
                ),
                ))
            }
        };
    let only = t
        .get("only")
        .map(|i| cx.expr(i, "accuracy.only", vars))
        .transpose()?;
    Ok(((ei, last), rule, only))
}
