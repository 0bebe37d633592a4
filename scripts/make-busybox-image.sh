#!/usr/bin/env bash
# Builds a busybox image offline from Debian's busybox-static.
#
#   scripts/make-busybox-image.sh [OUT_DIR]
#
# Writes, byte-for-byte reproducibly:
#   OUT_DIR/busybox-rootfs.tar  a root filesystem for `berth import busybox-rootfs.tar busybox`
#   OUT_DIR/busybox.tar         a docker-archive (as `docker save` writes) for `berth load -i busybox.tar`
# Every applet is linked under its full path, and /etc/passwd, /etc/group are those of the
# official busybox image (root, daemon, nobody, ...).
set -euo pipefail

out=${1:-.}
bb=${BUSYBOX:-/bin/busybox}
[ -x "$bb" ] || { echo "make-busybox-image: $bb not found: apt-get install busybox-static" >&2; exit 1; }
"$bb" --list-full >/dev/null 2>&1 || { echo "make-busybox-image: $bb is not a full busybox" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,var/spool/mail,var/www,home,dev,proc,sys}
chmod 1777 "$root/tmp"
chmod 700 "$root/root"
cp "$bb" "$root/bin/busybox"
chmod 755 "$root/bin/busybox"
"$bb" --list-full | while read -r applet; do
  [ "$applet" = "bin/busybox" ] && continue
  mkdir -p "$root/$(dirname "$applet")"
  # relative link so the target resolves inside any root
  depth=$(dirname "$applet" | awk -F/ '{print NF}')
  rel=$(printf '../%.0s' $(seq 1 "$depth"))bin/busybox
  ln -sf "$rel" "$root/$applet"
done

cat > "$root/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
P
cat > "$root/etc/group" <<'G'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nogroup:x:65534:
G
chmod 644 "$root/etc/passwd" "$root/etc/group"

# Deterministic tar: sorted names, fixed mtime, root ownership.
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu \
    -C "$root" -cf "$out/busybox-rootfs.tar" .

# docker-archive: one layer, a config whose diff_id is the layer's digest.
arch=$work/archive
mkdir -p "$arch"
layer_hex=$(sha256sum "$out/busybox-rootfs.tar" | cut -d' ' -f1)
mkdir -p "$arch/$layer_hex"
cp "$out/busybox-rootfs.tar" "$arch/$layer_hex/layer.tar"
printf '1.0' > "$arch/$layer_hex/VERSION"
config='{"architecture":"amd64","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]},"created":"1970-01-01T00:00:00Z","history":[{"created":"1970-01-01T00:00:00Z","created_by":"scripts/make-busybox-image.sh (Debian busybox-static)"}],"os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:'$layer_hex'"]}}'
printf '%s' "$config" > "$arch/config.json"
config_hex=$(sha256sum "$arch/config.json" | cut -d' ' -f1)
mv "$arch/config.json" "$arch/$config_hex.json"
printf '[{"Config":"%s.json","RepoTags":["busybox:latest"],"Layers":["%s/layer.tar"]}]' "$config_hex" "$layer_hex" > "$arch/manifest.json"
printf '{"busybox":{"latest":"%s"}}' "$layer_hex" > "$arch/repositories"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu \
    -C "$arch" -cf "$out/busybox.tar" .
echo "$out/busybox-rootfs.tar"
echo "$out/busybox.tar (image sha256:$config_hex)"
