//! Variable expansion with the Dockerfile's shell-like rules (moby's `shell.Lex`): `$VAR`,
//! `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`, `${VAR+alt}`, `${VAR:?msg}`,
//! single quotes (literal), double quotes (expansion, `\"` `\$` `\\` escapes) and the escape
//! character outside quotes. Quotes are removed from the result.

use std::collections::BTreeMap;

use crate::Error;

/// Variables visible to an instruction (build args in scope, then ENV, which wins).
pub type Vars = BTreeMap<String, String>;

/// Expands one word (`ProcessWord`): the whole string, quotes removed, no word splitting.
pub fn expand_word(word: &str, vars: &Vars, escape: char) -> Result<String, Error> {
    let mut lx = Lexer { chars: word.chars().collect(), pos: 0, vars, escape };
    lx.process(None)
}

/// Splits `s` on unquoted whitespace, keeping quotes and escapes in each word (the parser's
/// `parseWords`, used for `ENV`/`LABEL`/`ARG` `key=value` lists before expansion).
pub fn split_words(s: &str, escape: char) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => {
                quote = None;
                cur.push(c);
            }
            Some(q) if c == escape && q == '"' => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            Some(_) => cur.push(c),
            None if c == escape => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                cur.push(c);
            }
            None if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            None => cur.push(c),
        }
    }
    if let Some(q) = quote {
        let what = if q == '"' { "double" } else { "single" };
        return Err(Error::Parse(format!("unexpected end of statement while looking for matching {what}-quote")));
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

/// `key=value` pairs of `ENV`/`LABEL` (and the legacy `ENV key value words` form), expanded.
pub fn key_values(args: &str, vars: &Vars, escape: char, what: &str) -> Result<Vec<(String, String)>, Error> {
    let words = split_words(args, escape)?;
    if words.is_empty() {
        return Err(Error::Parse(format!("{what} requires at least one argument")));
    }
    if !words[0].contains('=') {
        // Legacy form: `ENV KEY value with spaces`.
        let trimmed = args.trim_start();
        let (key, rest) = trimmed.split_once(char::is_whitespace).unwrap_or((trimmed, ""));
        if rest.trim().is_empty() {
            return Err(Error::Parse(format!("{what} must have two arguments")));
        }
        let value = expand_word(rest.trim(), vars, escape)?;
        return Ok(vec![(expand_word(key, vars, escape)?, value)]);
    }
    let mut out = Vec::new();
    for w in words {
        let Some((k, v)) = w.split_once('=') else {
            return Err(Error::Parse(format!(
                "Syntax error - can't find = in \"{w}\". Must be of the form: name=value"
            )));
        };
        let key = expand_word(k, vars, escape)?;
        if key.is_empty() {
            return Err(Error::Parse(format!("{what} names can not be blank")));
        }
        out.push((key, expand_word(v, vars, escape)?));
    }
    Ok(out)
}

struct Lexer<'a> {
    chars: Vec<char>,
    pos: usize,
    vars: &'a Vars,
    escape: char,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    fn process(&mut self, stop: Option<char>) -> Result<String, Error> {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if Some(c) == stop {
                return Ok(out);
            }
            self.pos += 1;
            match c {
                '\'' => self.single_quote(&mut out)?,
                '"' => self.double_quote(&mut out)?,
                '$' => out.push_str(&self.dollar()?),
                c if c == self.escape => {
                    if let Some(n) = self.next() {
                        out.push(n);
                    }
                }
                c => out.push(c),
            }
        }
        if let Some(s) = stop {
            return Err(Error::Parse(format!("syntax error: missing '{s}' in substitution")));
        }
        Ok(out)
    }

    fn single_quote(&mut self, out: &mut String) -> Result<(), Error> {
        loop {
            match self.next() {
                None => {
                    return Err(Error::Parse(
                        "unexpected end of statement while looking for matching single-quote".into(),
                    ))
                }
                Some('\'') => return Ok(()),
                Some(c) => out.push(c),
            }
        }
    }

    fn double_quote(&mut self, out: &mut String) -> Result<(), Error> {
        loop {
            match self.next() {
                None => {
                    return Err(Error::Parse(
                        "unexpected end of statement while looking for matching double-quote".into(),
                    ))
                }
                Some('"') => return Ok(()),
                Some('$') => out.push_str(&self.dollar()?),
                Some(c) if c == self.escape => match self.peek() {
                    None => {}
                    Some(n) if n == '"' || n == '$' || n == self.escape => {
                        self.pos += 1;
                        out.push(n);
                    }
                    Some(_) => out.push(c),
                },
                Some(c) => out.push(c),
            }
        }
    }

    fn name(&mut self) -> String {
        let mut name = String::new();
        // `$1` is a positional parameter: one digit only (always empty here).
        if let Some(c) = self.peek().filter(char::is_ascii_digit) {
            self.pos += 1;
            name.push(c);
            return name;
        }
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == '_' {
                name.push(c);
                self.pos += 1;
            } else {
                break;
            }
        }
        name
    }

    fn dollar(&mut self) -> Result<String, Error> {
        if self.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                return Ok("$".into());
            }
            return Ok(self.vars.get(&name).cloned().unwrap_or_default());
        }
        self.pos += 1;
        let name = self.name();
        if name.is_empty() {
            return Err(Error::Parse("bad substitution: missing variable name".into()));
        }
        let value = self.vars.get(&name);
        match self.next() {
            Some('}') => Ok(value.cloned().unwrap_or_default()),
            Some(':') => {
                let op = self.next().unwrap_or('}');
                let word = self.process(Some('}'))?;
                self.pos += 1;
                let set = value.is_some_and(|v| !v.is_empty());
                modifier(op, set, value, word, &name)
            }
            Some(op @ ('-' | '+' | '?')) => {
                let word = self.process(Some('}'))?;
                self.pos += 1;
                modifier(op, value.is_some(), value, word, &name)
            }
            Some(c) => Err(Error::Parse(format!("unsupported modifier ({c}) in substitution"))),
            None => Err(Error::Parse("syntax error: missing '}' in substitution".into())),
        }
    }
}

fn modifier(op: char, set: bool, value: Option<&String>, word: String, name: &str) -> Result<String, Error> {
    match op {
        '-' => Ok(if set { value.cloned().unwrap_or_default() } else { word }),
        '+' => Ok(if set { word } else { String::new() }),
        '?' if set => Ok(value.cloned().unwrap_or_default()),
        '?' => Err(Error::Parse(if word.is_empty() {
            format!("{name}: is not allowed to be unset")
        } else {
            format!("{name}: {word}")
        })),
        c => Err(Error::Parse(format!("unsupported modifier ({c}) in substitution"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        [("A", "a"), ("E", ""), ("SP", "x y")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn expands_like_docker() {
        let v = vars();
        let e = |s: &str| expand_word(s, &v, '\\').unwrap();
        assert_eq!(e("$A"), "a");
        assert_eq!(e("${A}b"), "ab");
        assert_eq!(e("${U:-d}"), "d");
        assert_eq!(e("${E:-d}"), "d");
        assert_eq!(e("${E-d}"), "");
        assert_eq!(e("${A:+x}"), "x");
        assert_eq!(e("${U:+x}"), "");
        assert_eq!(e("'$A'"), "$A");
        assert_eq!(e("\"$A $SP\""), "a x y");
        assert_eq!(e("\\$A"), "$A");
        assert_eq!(e("\"\\$A\\q\""), "$A\\q");
        assert_eq!(e("$"), "$");
        assert_eq!(e("${U:-${A}}"), "a");
        assert!(expand_word("${U:?needed}", &v, '\\').is_err());
        assert!(expand_word("\"open", &v, '\\').is_err());
    }

    #[test]
    fn key_values_forms() {
        let v = vars();
        let kv = key_values("A=1 B=\"two words\" C=$A", &v, '\\', "ENV").unwrap();
        assert_eq!(kv, [("A".into(), "1".into()), ("B".into(), "two words".into()), ("C".into(), "a".into())]);
        let kv = key_values("K some value", &v, '\\', "ENV").unwrap();
        assert_eq!(kv, [("K".into(), "some value".into())]);
        assert!(key_values("=x", &v, '\\', "LABEL").is_err());
    }
}
