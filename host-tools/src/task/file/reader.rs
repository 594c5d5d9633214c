//! The task-file reader's helpers: typed values from `toml_edit` items, each failure a
//! [`FileError`] with file, line, key and value; unknown keys with the nearest valid one.

use super::{suggest, Expr, FileError};
use std::ops::Range;
use toml_edit::{Item, TableLike, Value};

/// Largest channel count a task file may declare.
pub(super) const MAX_CHANNELS: usize = 4096;

/// The file being read (name for errors, text for line numbers).
pub(super) struct Cx<'a> {
    /// File name.
    pub file: &'a str,
    /// File text.
    pub text: &'a str,
}

pub(super) type R<T> = Result<T, FileError>;

impl Cx<'_> {
    pub(super) fn err(
        &self,
        span: Option<Range<usize>>,
        key: &str,
        message: impl Into<String>,
    ) -> FileError {
        let line = span.map(|s| {
            self.text[..s.start.min(self.text.len())]
                .matches('\n')
                .count()
                + 1
        });
        FileError {
            file: self.file.to_string(),
            line,
            key: key.to_string(),
            message: message.into(),
        }
    }

    /// Refuse keys of `t` not in `allowed`, suggesting the nearest.
    pub(super) fn keys(&self, t: &dyn TableLike, path: &str, allowed: &[&str]) -> R<()> {
        for (k, item) in t.iter() {
            if !allowed.contains(&k) {
                let span = t.key(k).and_then(|k| k.span()).or_else(|| item.span());
                return Err(self.err(
                    span,
                    &join(path, k),
                    format!(
                        "is not a known key{}; valid keys here: {}",
                        suggest(k, allowed.iter().copied()),
                        allowed.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    pub(super) fn table<'t>(&self, item: &'t Item, key: &str) -> R<&'t dyn TableLike> {
        item.as_table_like().ok_or_else(|| {
            self.err(
                item.span(),
                key,
                format!("must be a table, got {}", show(item)),
            )
        })
    }

    pub(super) fn num(&self, item: &Item, key: &str) -> R<f64> {
        let v = match item.as_value() {
            Some(Value::Float(f)) => *f.value(),
            Some(Value::Integer(i)) => *i.value() as f64,
            _ => {
                return Err(self.err(
                    item.span(),
                    key,
                    format!("must be a number, got {}", show(item)),
                ))
            }
        };
        if !v.is_finite() {
            return Err(self.err(item.span(), key, format!("is {v}, must be finite")));
        }
        Ok(v)
    }

    pub(super) fn nonneg(&self, item: &Item, key: &str) -> R<f64> {
        let v = self.num(item, key)?;
        if v < 0.0 {
            return Err(self.err(item.span(), key, format!("is {v}, must be >= 0")));
        }
        Ok(v)
    }

    pub(super) fn uint(&self, item: &Item, key: &str, lo: usize, hi: usize) -> R<usize> {
        match item.as_value() {
            Some(Value::Integer(i)) if (lo as i64..=hi as i64).contains(i.value()) => {
                Ok(*i.value() as usize)
            }
            _ => Err(self.err(
                item.span(),
                key,
                format!("is {}, must be an integer in {lo}..={hi}", show(item)),
            )),
        }
    }

    pub(super) fn string(&self, item: &Item, key: &str) -> R<String> {
        item.as_str().map(str::to_string).ok_or_else(|| {
            self.err(
                item.span(),
                key,
                format!("must be a string, got {}", show(item)),
            )
        })
    }

    pub(super) fn nums(&self, item: &Item, key: &str) -> R<Vec<f64>> {
        let a = item.as_array().ok_or_else(|| {
            self.err(
                item.span(),
                key,
                format!("must be an array of numbers, got {}", show(item)),
            )
        })?;
        a.iter()
            .map(|v| {
                self.num(&Item::Value(v.clone()), key)
                    .map_err(|e| FileError {
                        line: e.line.or_else(|| self.err(v.span(), key, "").line),
                        ..e
                    })
            })
            .collect()
    }

    pub(super) fn expr(&self, item: &Item, key: &str, vars: &[String]) -> R<Expr> {
        if let Some(s) = item.as_str() {
            return Expr::parse(s, vars)
                .map_err(|m| self.err(item.span(), key, format!("= {s:?}: {m}")));
        }
        self.num(item, key).map(Expr::Num).map_err(|_| {
            self.err(
                item.span(),
                key,
                format!(
                    "must be a number or an expression string, got {}",
                    show(item)
                ),
            )
        })
    }

    pub(super) fn req<'t>(
        &self,
        t: &'t dyn TableLike,
        span: Option<Range<usize>>,
        path: &str,
        k: &str,
    ) -> R<&'t Item> {
        t.get(k)
            .ok_or_else(|| self.err(span, &join(path, k), "is missing"))
    }
}

pub(super) fn join(path: &str, k: &str) -> String {
    if path.is_empty() {
        k.to_string()
    } else {
        format!("{path}.{k}")
    }
}

pub(super) fn show(item: &Item) -> String {
    match item {
        Item::None => "nothing".into(),
        Item::Value(v) => {
            let s = v.to_string();
            format!("{} {}", v.type_name(), s.trim())
        }
        Item::Table(_) => "a table".into(),
        Item::ArrayOfTables(_) => "an array of tables".into(),
    }
}
