//! DiffID → ChainID: the identity of a layer together with everything below it.
//!
//! `ChainID(L0) = DiffID(L0)`, `ChainID(L0..Ln) = sha256(ChainID(L0..Ln-1) + " " + DiffID(Ln))`
//! (OCI image-spec, config.md).

use crate::Digest;

/// The chain ids of every prefix of `diff_ids`, bottom first.
pub fn chain_ids(diff_ids: &[Digest]) -> Vec<Digest> {
    let mut out: Vec<Digest> = Vec::with_capacity(diff_ids.len());
    for d in diff_ids {
        let next = match out.last() {
            None => d.clone(),
            Some(parent) => Digest::sha256_of(format!("{parent} {d}").as_bytes()),
        };
        out.push(next);
    }
    out
}

/// The chain id of the whole stack, `None` for an image without layers.
pub fn chain_id(diff_ids: &[Digest]) -> Option<Digest> {
    chain_ids(diff_ids).pop()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_of_one_is_the_diff_id() {
        let a = Digest::sha256_of(b"a");
        assert_eq!(chain_ids(std::slice::from_ref(&a)), vec![a.clone()]);
        assert_eq!(chain_id(&[]), None);
    }

    #[test]
    fn chain_of_two_hashes_parent_space_diff() {
        let a = Digest::sha256_of(b"a");
        let b = Digest::sha256_of(b"b");
        let ids = chain_ids(&[a.clone(), b.clone()]);
        assert_eq!(ids[1], Digest::sha256_of(format!("{a} {b}").as_bytes()));
        // Known value from the OCI spec's example pair of layers.
        let l0: Digest = "sha256:a9a8e1f6f1bbce2b5f8c5d0b3e1b0d0c2a3e4d1f6b9a8c7d6e5f4a3b2c1d0e9f".parse().unwrap();
        let l1: Digest = "sha256:0102030405060708091011121314151617181920212223242526272829303132".parse().unwrap();
        let expect = Digest::sha256_of(format!("{l0} {l1}").as_bytes());
        assert_eq!(chain_id(&[l0, l1]).unwrap(), expect);
    }
}
