#!/usr/bin/env bash
# Builds cloister's default guest from Debian's own packages: the i686 kernel of the running
# Debian release (linux-image-686's current dependency) as build/guest/bzImage, and a busybox
# initramfs as build/guest/initramfs.cpio.gz. The packages are downloaded and unpacked into
# build/guest/, never installed. Idempotent: every step is skipped when its result is already
# there. Installs what it needs (cpio, the i386 architecture in dpkg) as root.
# usage: scripts/build-guest.sh [--qemu-check]   (output folder: $CLOISTER_GUEST_DIR or build/guest)
#   --qemu-check: then boot the result in qemu-system-i386 (TCG), wait for the guest's readiness
#   line, run `uname -a; poweroff -f` in its shell and report how long each step took.
set -euo pipefail
check=no
case "${1:-}" in
  --qemu-check) check=yes ;;
  '') ;;
  *) echo "usage: $0 [--qemu-check]" >&2; exit 2 ;;
esac
top=$(cd "$(dirname "$0")/.." && pwd)
out=${CLOISTER_GUEST_DIR:-$top/build/guest}
debs=$out/debs
say() { echo "build-guest: $*"; }
die() { echo "build-guest: $*" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
mkdir -p "$debs"

need_root() { [ "$(id -u)" -eq 0 ] || die "$1 needs root: run as root once"; }
# A mirror in mid-sync can fail one index (often the security suite's); the lists that did
# arrive are enough when the names below resolve, and the resolution step says so when not.
apt_update() { apt-get update -q >/dev/null || say "apt-get update reported errors; going on with the lists it got"; }

# ---- tools and the i386 package lists ----
for tool in cpio dpkg-deb gzip; do
  if ! command -v "$tool" >/dev/null; then
    need_root "installing $tool"
    say "installing $tool"
    apt-get install -y -q --no-install-recommends "$tool" >/dev/null ||
      { apt_update; apt-get install -y -q --no-install-recommends "$tool" >/dev/null; }
  fi
done
updated=no
if ! dpkg --print-foreign-architectures | grep -qx i386 &&
   [ "$(dpkg --print-architecture)" != i386 ]; then
  need_root "adding the i386 architecture"
  say "adding the i386 architecture to dpkg"
  dpkg --add-architecture i386
  apt_update
  updated=yes
fi
# A package list without the i386 names (never updated, or updated before the architecture was
# added) gets one update.
if [ $updated = no ] && ! apt-cache show linux-image-686:i386 >/dev/null 2>&1; then
  need_root "apt-get update"
  say "updating the package lists"
  apt_update
fi

# ---- the kernel package: whatever linux-image-686 depends on now ----
kpkg=$(apt-cache depends linux-image-686:i386 2>/dev/null |
       sed -n 's/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-686\)\(:i386\)\{0,1\}$/\1/p' | head -n1)
[ -n "$kpkg" ] || die "cannot resolve the kernel behind linux-image-686 (apt-cache depends found none)"
say "kernel package: $kpkg"

# Download one package (PKG:i386) at its candidate version unless that .deb is already here;
# print the .deb's path.
fetch() {
  local pkg=$1 ver deb
  ver=$(apt-cache show --no-all-versions "$pkg:i386" 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
  [ -n "$ver" ] || die "no candidate version of $pkg:i386 in the package lists"
  deb=$debs/${pkg}_${ver//:/%3a}_i386.deb
  if [ ! -s "$deb" ]; then
    (cd "$debs" && apt-get download -q "$pkg:i386=$ver" >/dev/null 2>&1) ||
      die "apt-get download $pkg:i386=$ver failed"
    [ -s "$deb" ] || die "apt-get download $pkg:i386 did not leave $deb"
  fi
  echo "$deb"
}

# Unpack a .deb into its own folder once (a stamp marks a complete extraction). With a third
# argument, only that part of the package's tree (the kernel package is mostly modules, which an
# initramfs without modules does not need).
unpack() {
  local deb=$1 dir=$2 only=${3:-}
  if [ ! -e "$dir/.unpacked" ] || [ "$(cat "$dir/.unpacked")" != "$(basename "$deb")" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    if [ -n "$only" ]; then
      dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir" "$only"
    else
      dpkg-deb -x "$deb" "$dir"
    fi
    basename "$deb" > "$dir/.unpacked"
  fi
}

kdeb=$(fetch "$kpkg")
bdeb=$(fetch busybox-static)
unpack "$kdeb" "$out/pkg/kernel" ./boot
unpack "$bdeb" "$out/pkg/busybox"

# ---- bzImage ----
kimages=("$out"/pkg/kernel/boot/vmlinuz-*)
vmlinuz=${kimages[0]}
[ -f "$vmlinuz" ] || die "$(basename "$kdeb") has no /boot/vmlinuz-*"
if ! cmp -s "$vmlinuz" "$out/bzImage"; then
  cp "$vmlinuz" "$out/bzImage.tmp" && mv "$out/bzImage.tmp" "$out/bzImage"
  say "bzImage from $(basename "$vmlinuz")"
fi
basename "$vmlinuz" | sed 's/^vmlinuz-//' > "$out/kernel-release"

# ---- initramfs ----
busybox=$out/pkg/busybox/bin/busybox
[ -x "$busybox" ] || die "$(basename "$bdeb") has no /bin/busybox"

build_initramfs() {
  local stage=$out/initramfs new=$out/initramfs.cpio.gz.tmp
  rm -rf "$stage"
  mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root,etc}
  cp "$busybox" "$stage/bin/busybox"
  ln -s busybox "$stage/bin/sh"
  # The applet links are made at boot (busybox --install -s): the build host need not run i386.
  cat > "$stage/init" <<'INIT'
#!/bin/sh
# cloister default guest: mount the kernel's file systems, link busybox's applets, then a shell
# on the console.
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# The kernel found no /dev/console in the initramfs before devtmpfs was mounted: attach now.
exec </dev/console >/dev/console 2>&1
echo "cloister-guest: ready ($(uname -r))"
exec setsid cttyhack sh
INIT
  chmod 755 "$stage/init"
  # Fixed owners and times, sorted names, no inode numbers: the same inputs give the same archive.
  find "$stage" -exec touch -h -d @0 {} +
  (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
     cpio -o -H newc --owner=0:0 --reproducible --quiet) | gzip -9 -n > "$new"
  if cmp -s "$new" "$out/initramfs.cpio.gz"; then
    rm -f "$new"
    touch "$out/initramfs.cpio.gz"  # checked: the same as a rebuild would give
  else
    mv "$new" "$out/initramfs.cpio.gz"
    say "initramfs.cpio.gz rebuilt"
  fi
}

# Up to date when newer than both of its inputs: this script (which holds /init) and busybox.
if [ "$out/initramfs.cpio.gz" -nt "$0" ] && [ "$out/initramfs.cpio.gz" -nt "$busybox" ]; then
  note=" (up to date)"
else
  build_initramfs
  note=""
fi
say "kernel:    $out/bzImage ($(cat "$out/kernel-release"))"
say "initramfs: $out/initramfs.cpio.gz$note"

# ---- optional boot check in QEMU ----
[ $check = yes ] || exit 0
command -v qemu-system-i386 >/dev/null || die "--qemu-check needs qemu-system-i386 (package qemu-system-x86)"
run=$(mktemp -d)
qpid=""
trap '[ -n "$qpid" ] && kill "$qpid" 2>/dev/null; rm -rf "$run"' EXIT
mkfifo "$run/in"
start=$(date +%s.%N)
qemu-system-i386 -kernel "$out/bzImage" -initrd "$out/initramfs.cpio.gz" \
  -append "console=ttyS0 panic=-1" -nographic -no-reboot -m 256 <"$run/in" >"$run/log" 2>&1 &
qpid=$!
exec 3>"$run/in"  # keep the console's input open until the commands are sent
elapsed() { awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
limit=240
while ! grep -q 'cloister-guest: ready' "$run/log"; do
  kill -0 "$qpid" 2>/dev/null || { tail -n 20 "$run/log" >&2; die "qemu exited before the guest was ready"; }
  [ "$(elapsed | cut -d. -f1)" -lt $limit ] || { tail -n 20 "$run/log" >&2; die "no readiness line after ${limit} s"; }
  sleep 0.5
done
ready=$(elapsed)
say "qemu: guest ready after ${ready} s ($(grep -o 'cloister-guest: ready.*' "$run/log" | tr -d '\r'))"
sleep 1  # let the shell print its prompt
printf 'uname -a; poweroff -f\n' >&3
exec 3>&-
for _ in $(seq 1 120); do kill -0 "$qpid" 2>/dev/null || break; sleep 0.5; done
if kill -0 "$qpid" 2>/dev/null; then
  die "the guest did not power off within 60 s of the command"
fi
wait "$qpid" || true
qpid=""
grep -q '^Linux .* i686' "$run/log" || { tail -n 20 "$run/log" >&2; die "no uname output from the guest shell"; }
say "qemu: $(grep '^Linux .* i686' "$run/log" | tr -d '\r')"
say "qemu: powered off after $(elapsed) s"
