//! `.dockerignore` with Docker's pattern rules (part of the build-context contract: the CLI
//! filters the context it sends and the builder filters COPY sources the same way) (moby `patternmatcher`): one pattern a line,
//! `#` comments, paths cleaned and made relative, `*` `?` `[...]` within a path component,
//! `**` across any number of components, `!` re-includes, the last matching pattern wins, and
//! a pattern that matches a directory matches everything under it.

/// One `.dockerignore` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    pub text: String,
    pub exclusion: bool,
}

/// The parsed `.dockerignore`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ignore {
    pub patterns: Vec<Pattern>,
}

impl Ignore {
    /// Parses the file's text.
    pub fn parse(text: &str) -> Ignore {
        let mut patterns = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (exclusion, p) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            let cleaned = clean(p);
            if cleaned.is_empty() {
                continue;
            }
            patterns.push(Pattern { text: cleaned, exclusion });
        }
        Ignore { patterns }
    }

    /// Whether `path` (relative to the context, `/`-separated) is excluded.
    pub fn excludes(&self, path: &str) -> bool {
        let path = clean(path);
        let mut excluded = false;
        for p in &self.patterns {
            if matches(&p.text, &path) {
                excluded = !p.exclusion;
            }
        }
        excluded
    }

    /// Whether a directory must still be walked because an exclusion (`!`) might re-include
    /// something below it.
    pub fn has_exclusions(&self) -> bool {
        self.patterns.iter().any(|p| p.exclusion)
    }
}

/// `filepath.Clean` on a `/`-separated path, made relative (no leading `/`, no `./`).
pub fn clean(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    parts.join("/")
}

/// Whether `pattern` matches `path` or one of its parent directories.
pub fn matches(pattern: &str, path: &str) -> bool {
    if glob_match(pattern, path) {
        return true;
    }
    if pattern.contains("**") {
        // `**` patterns match any depth already; also let `dir/**` style patterns match the
        // parents of a path.
        let mut prefix = String::new();
        for c in path.split('/') {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(c);
            if prefix.len() < path.len() && glob_match(pattern, &prefix) {
                return true;
            }
        }
        return false;
    }
    let n = pattern.split('/').count();
    let parts: Vec<&str> = path.split('/').collect();
    parts.len() > n && glob_match(pattern, &parts[..n].join("/"))
}

/// Go's `filepath.Match` plus `**`: `*` and `?` stay within a component, `**` spans any
/// number of components (`a/**/b` also matches `a/b`), `[...]` classes with `^`/`!` negation
/// and ranges, `\` escapes.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = path.chars().collect();
    match_at(&p, &s)
}

fn match_at(p: &[char], s: &[char]) -> bool {
    if p.is_empty() {
        return s.is_empty();
    }
    match p[0] {
        '*' if p.get(1) == Some(&'*') => {
            let mut rest = &p[2..];
            // `**/` may match zero directories.
            if rest.first() == Some(&'/') {
                if match_at(&rest[1..], s) {
                    return true;
                }
                rest = &p[2..];
            }
            (0..=s.len()).any(|i| match_at(rest, &s[i..]))
        }
        '*' => {
            for i in 0..=s.len() {
                if match_at(&p[1..], &s[i..]) {
                    return true;
                }
                if i < s.len() && s[i] == '/' {
                    break;
                }
            }
            false
        }
        '?' => !s.is_empty() && s[0] != '/' && match_at(&p[1..], &s[1..]),
        '[' => {
            let Some(c) = s.first() else { return false };
            if *c == '/' {
                return false;
            }
            match class(&p[1..], *c) {
                Some((ok, used)) => ok && match_at(&p[1 + used..], &s[1..]),
                None => false,
            }
        }
        '\\' if p.len() > 1 => !s.is_empty() && s[0] == p[1] && match_at(&p[2..], &s[1..]),
        c => !s.is_empty() && s[0] == c && match_at(&p[1..], &s[1..]),
    }
}

/// Matches `c` against a class body (after `[`); returns (matched, chars consumed incl. `]`).
fn class(p: &[char], c: char) -> Option<(bool, usize)> {
    let mut i = 0;
    let negate = matches!(p.first(), Some('^') | Some('!'));
    if negate {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    while i < p.len() {
        if p[i] == ']' && !first {
            return Some((hit != negate, i + 1));
        }
        first = false;
        let mut lo = p[i];
        if lo == '\\' && i + 1 < p.len() {
            i += 1;
            lo = p[i];
        }
        let mut hi = lo;
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            hi = p[i + 2];
            i += 2;
        }
        if lo <= c && c <= hi {
            hit = true;
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*.txt", "a.txt"));
        assert!(!glob_match("*.txt", "d/a.txt"));
        assert!(glob_match("**/*.txt", "a.txt"));
        assert!(glob_match("**/*.txt", "d/e/a.txt"));
        assert!(glob_match("a/**/b", "a/b"));
        assert!(glob_match("a/**/b", "a/x/y/b"));
        assert!(glob_match("f[0-9]", "f7"));
        assert!(!glob_match("f[!0-9]", "f7"));
        assert!(glob_match("?.md", "x.md"));
    }

    #[test]
    fn last_match_wins_and_dirs_cover_children() {
        let i = Ignore::parse("# c\n*.log\n!keep.log\nbuild/\n/secret\n");
        assert!(i.excludes("a.log"));
        assert!(!i.excludes("keep.log"));
        assert!(i.excludes("build/x/y"));
        assert!(i.excludes("secret"));
        assert!(!i.excludes("src/a.log"));
        assert!(!i.excludes("Dockerfile"));
    }
}
