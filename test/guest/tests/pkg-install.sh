#!/bin/bash
# The Debian packages as an admin uses them: apt-get installs the .debs
# built on the host (scripts/build-debs, into .cache/debs), resolving their
# dependencies from the package lists; DKMS builds and installs dm-shadow.ko
# for this kernel; shadowctl, from the installed files only, enables a
# volume, takes a copy that is checked byte for byte, and deletes it; then
# apt-get remove and purge leave no file behind but the catalog (README,
# "Installing").
#
# Nothing is loaded by the harness (guest-dm-shadow: no): the module must
# come from DKMS.  What the packages leave behind is read from the tmpfs
# upper layer of the guest's overlay (test/guest/init), which holds every
# file created or changed since boot, anywhere in the tree.
# guest-timeout: 1200
# guest-mem: 2048
# guest-dm-shadow: no
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

kver=$(uname -r)
debs=$SHADOW_TOP/.cache/debs
pkgs=(dm-shadow-dkms libshadow0 libshadow-dev shadowctl shadow-writers)
upper=/proc/1/root/mnt/rw/upper
lower=/proc/1/root/mnt/host

json() { # <file> <python expression over d>
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

installed() { # <package>: 0 when dpkg has it installed
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

step "the .debs built on the host"
debfiles=()
for p in "${pkgs[@]}"; do
	f=$(find "$debs" -maxdepth 1 -name "${p}_*.deb" | sort | tail -n 1)
	[ -n "$f" ] || fail "no $debs/${p}_*.deb: build them on the host first (scripts/build-debs)"
	debfiles+=("$f")
done
ls -l "${debfiles[@]}"
[ -d "$upper" ] && [ -d "$lower" ] ||
	fail "no overlay layers at $upper, $lower (test/guest/init changed?)"

step "nothing of dm-shadow installed yet, no build tree on PATH"
cd /
unset LD_LIBRARY_PATH
case ":$PATH:" in *":$SHADOW_TOP"*) fail "PATH holds the build tree: $PATH" ;; esac
for p in "${pkgs[@]}"; do
	installed "$p" && fail "$p is installed on the host already: this test cannot tell what the packages do"
done
if command -v shadowctl >/dev/null; then
	fail "a shadowctl is on PATH before the install: $(command -v shadowctl)"
fi
# The harness puts its own build of dm-shadow.ko in this kernel's modules
# tree (test/guest/build-module): the module must come from DKMS here.
# (DKMS's install runs depmod, after which modinfo must find its copy.)
rm -f "/lib/modules/$kver/updates/dm-shadow.ko"
# The guest is a machine running one kernel: a kernel installed on the
# host (its /boot/config-*) would have DKMS build for it too, as the
# newest kernel (/usr/lib/dkms/common.postinst), minutes under emulation.
for f in /boot/config-*; do
	[ -e "$f" ] && [ "$f" != "/boot/config-$kver" ] && rm -f "$f"
done
# The linux-headers package put these links in the host's /lib/modules/<v>,
# which the harness hides behind its bind mount of the kernel's modules.
# A kernel of our own (test/guest/build-debug-kernel) has no headers
# package: its build tree, which the module is built against on the host
# too (test/guest/build-module), stands in for it.
headers=/usr/src/linux-headers-$kver
own_build=$SHADOW_TOP/.cache/guest/$kver/kbuild
[ ! -e "$headers" ] && [ -d "$own_build" ] && headers=$own_build
[ -e "/lib/modules/$kver/build" ] || ln -s "$headers" "/lib/modules/$kver/build"
[ -e "/lib/modules/$kver/build/include" ] ||
	fail "no linux-headers-$kver on the host, and no build tree of a kernel of our own at $own_build"
# man-db's trigger would rebuild its index of every manual page under
# emulation (minutes); the manual pages are checked below by man -w.
rm -f /var/lib/man-db/auto-update

# Every file created, changed or deleted since boot, as paths in the tree.
snapshot() {
	(cd "$upper" && find . -mindepth 1 | sed 's|^\.||' | sort)
}
snapshot >"$WORK/before"

step "apt resolves dependencies from the package lists"
# Without the library's package, shadowctl's dependency on libshadow0
# cannot be met from any list: apt refuses it (dpkg -i would not).
if apt-get install -s "$(ls "$debs"/shadowctl_*.deb)" >"$WORK/apt-alone.log" 2>&1; then
	cat "$WORK/apt-alone.log"
	fail "apt-get accepted shadowctl without libshadow0"
fi
grep -q 'Depends: libshadow0' "$WORK/apt-alone.log" || {
	cat "$WORK/apt-alone.log"
	fail "apt-get did not name the missing libshadow0"
}
echo "apt refuses shadowctl alone: $(grep 'Depends: libshadow0' "$WORK/apt-alone.log" | sed 's/^ *//')"

step "apt-get install the packages; DKMS builds the module for $kver"
# The build's slow part without it is unpacking the headers from the
# 139 MB linux-source tarball: the host's cache (made by the harness's
# module builds) is in the overlay's lower layer.
echo "pd-headers cache: $(ls /var/cache/dm-shadow/pd-headers 2>/dev/null | paste -sd' ')"
t0=$SECONDS
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	"${debfiles[@]}" >"$WORK/apt-install.log" 2>&1 || {
	cat "$WORK/apt-install.log"
	fail "apt-get install failed"
}
cat "$WORK/apt-install.log"
install_secs=$((SECONDS - t0))
echo "apt-get install with the DKMS build: ${install_secs}s"
# apt installed exactly our packages: every other dependency (dkms,
# linux-source, the libraries) was met from what is installed.
new=$(sed -n '/^The following NEW packages will be installed:/,/^[^ ]/p' "$WORK/apt-install.log" |
	sed '1d;$d' | tr ' ' '\n' | sed '/^$/d' | sort | paste -sd' ')
want=$(printf '%s\n' "${pkgs[@]}" | sort | paste -sd' ')
[ "$new" = "$want" ] || fail "apt installed '$new', expected '$want'"
for p in "${pkgs[@]}"; do installed "$p" || fail "$p is not installed"; done
apt-get check >/dev/null || fail "apt-get check: broken dependencies after the install"
status=$(dkms status -m dm-shadow -k "$kver" 2>/dev/null)
echo "$status"
echo "$status" | matches ": installed" || fail "DKMS did not install dm-shadow for $kver"
# The module's build alone: DKMS's make.log starts with the date (its
# second line) and is written until the .ko is made.
log=/var/lib/dkms/dm-shadow/$(dpkg-query -W -f='${Version}' dm-shadow-dkms)/$kver/x86_64/log/make.log
if [ -f "$log" ] && begun=$(date -d "$(sed -n 2p "$log")" +%s 2>/dev/null); then
	echo "DKMS module build for $kver: $(($(stat -c %Y "$log") - begun))s (make.log)"
fi

step "modprobe dm-shadow loads DKMS's module"
ko=$(modinfo -n dm-shadow) || fail "modinfo finds no dm-shadow after the install"
case "$ko" in
"/lib/modules/$kver/updates/dkms/dm-shadow.ko"*) echo "dm-shadow.ko: $ko" ;;
*) fail "dm-shadow resolves to $ko, not DKMS's updates/dkms" ;;
esac
[ "$(modinfo -F vermagic dm-shadow | cut -d' ' -f1)" = "$kver" ] || fail "vermagic is not $kver"
modprobe dm-shadow
grep -q '^dm_shadow ' /proc/modules || fail "dm_shadow not loaded"
dmsetup targets | matches '^shadow-origin' || fail "no shadow-origin target"

step "the installed files"
hash -r
[ "$(command -v shadowctl)" = /usr/sbin/shadowctl ] || fail "shadowctl is $(command -v shadowctl)"
[ "$(command -v shadow-dump)" = /usr/sbin/shadow-dump ] || fail "shadow-dump is $(command -v shadow-dump)"
lib=$(ldd /usr/sbin/shadowctl | awk '$1 == "libshadow.so.0" { print $3 }')
case "$lib" in
/lib/*/libshadow.so.0 | /usr/lib/*/libshadow.so.0) echo "libshadow: $lib" ;;
*) fail "shadowctl links libshadow.so.0 at '$lib'" ;;
esac
for f in /lib/udev/rules.d/60-dm-shadow.rules \
	/lib/systemd/system/dm-shadow-activate.service \
	/lib/systemd/system/dm-shadow-monitor.service \
	/lib/systemd/system/dm-shadow-schedule.service \
	/lib/systemd/system/dm-shadow-schedule.timer \
	/usr/share/bash-completion/completions/shadowctl \
	/usr/libexec/dm-shadow/writers/hook \
	/usr/libexec/dm-shadow/writers/postgresql \
	/usr/include/libshadow.h /usr/include/dm-shadow/dm-shadow-format.h; do
	[ -e "$f" ] || fail "$f is not installed"
done
for page in shadowctl.8 shadowctl-monitor.8 shadow-dump.8 dm-shadow.7 libshadow.3 \
	shadow-writers.8 shadow-writers.conf.5 monitor.conf.5 shadow-writer.7 shadow-stream.5 \
	shadow-schedule.conf.5 shadow-clone-metadata.5; do
	man -w "${page%.*}" "${page##*.}" >/dev/null 2>&1 ||
		man -w "${page##*.}" "${page%.*}" >/dev/null 2>&1 ||
		fail "no manual page $page"
done
grep -q '^ExecStart=/usr/sbin/shadowctl ' /lib/systemd/system/dm-shadow-activate.service ||
	fail "dm-shadow-activate.service does not run /usr/sbin/shadowctl"
[ -L /etc/systemd/system/local-fs-pre.target.wants/dm-shadow-activate.service ] ||
	fail "dm-shadow-activate.service is not enabled"
[ -L /etc/systemd/system/timers.target.wants/dm-shadow-schedule.timer ] ||
	fail "dm-shadow-schedule.timer is not enabled"
# libshadow-dev: a program builds against libshadow with pkg-config.
[ "$(pkg-config --modversion libshadow)" = "$(shadowctl --version | awk '{ print $NF }')" ] ||
	fail "pkg-config says libshadow $(pkg-config --modversion libshadow)"
cat >"$WORK/v.c" <<'EOF'
#include <stdio.h>
#include <libshadow.h>
int main(void) { puts(shadow_version()); return 0; }
EOF
# shellcheck disable=SC2046 # pkg-config's flags are words
cc -o "$WORK/v" "$WORK/v.c" $(pkg-config --cflags --libs libshadow) || fail "cannot build against libshadow-dev"
"$WORK/v"

step "shadowctl: enable, create, list, expose, check, delete"
origin=$(loop_disk 32)
store=$(loop_disk 32)
head -c 16M /dev/urandom >"$WORK/before.img"
dd if="$WORK/before.img" of="$origin" bs=1M oflag=direct status=none
shadowctl enable "$origin" --store "$store" --name pkgvol
shadowctl -J list volumes >"$WORK/vols.json"
[ "$(json "$WORK/vols.json" 'd["volumes"][0]["provider"]')" = dm-shadow ] ||
	fail "pkgvol does not use the dm-shadow provider: $(cat "$WORK/vols.json")"
shadowctl -J create pkgvol >"$WORK/create.json"
id=$(json "$WORK/create.json" 'd["set"]["shadows"][0]["id"]')
head -c 16M /dev/urandom >"$WORK/after.img"
dd if="$WORK/after.img" of=/dev/mapper/pkgvol bs=1M oflag=direct status=none
shadowctl list
shadowctl -J list shadows >"$WORK/shadows.json"
[ "$(json "$WORK/shadows.json" 'len(d["shadows"])')" = 1 ] || fail "list shadows: $(cat "$WORK/shadows.json")"
shadowctl -J expose "$id" >"$WORK/expose.json"
dev=$(json "$WORK/expose.json" 'd["shadow"]["device"]')
want=$(sha256sum <"$WORK/before.img" | cut -d' ' -f1)
got=$(head -c 16M "$dev" | sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "the copy $dev differs from the volume at the point in time"
got=$(head -c 16M /dev/mapper/pkgvol | sha256sum | cut -d' ' -f1)
[ "$got" = "$(sha256sum <"$WORK/after.img" | cut -d' ' -f1)" ] || fail "the volume lost its new data"
echo "copy $id on $dev: sha256 matches the volume before the overwrite"
shadowctl unexpose "$id"
shadowctl delete "$id"
shadowctl -J list shadows >"$WORK/shadows.json"
[ "$(json "$WORK/shadows.json" 'len(d["shadows"])')" = 0 ] || fail "the copy is still listed"
shadowctl disable pkgvol
[ ! -e /dev/mapper/pkgvol ] || fail "pkgvol still exists after disable"
shadow-dump --check "$store" >/dev/null || fail "shadow-dump --check on the store"
modprobe -r dm-shadow || fail "dm-shadow does not unload"
[ -s /var/lib/dm-shadow/catalog.json ] || fail "no catalog at /var/lib/dm-shadow/catalog.json"
cp /var/lib/dm-shadow/catalog.json "$WORK/catalog.json"

step "apt-get remove"
t0=$SECONDS
DEBIAN_FRONTEND=noninteractive apt-get remove -y "${pkgs[@]}" >"$WORK/apt-remove.log" 2>&1 || {
	cat "$WORK/apt-remove.log"
	fail "apt-get remove failed"
}
cat "$WORK/apt-remove.log"
for p in "${pkgs[@]}"; do installed "$p" && fail "$p is still installed"; done
for f in /usr/sbin/shadowctl /usr/src/dm-shadow-*/dkms.conf; do
	[ ! -e "$f" ] || fail "$f is still there after remove"
done
modinfo -n dm-shadow >/dev/null 2>&1 && fail "dm-shadow.ko is still there after remove: $(modinfo -n dm-shadow)"
[ -z "$(dkms status -m dm-shadow)" ] || fail "DKMS still has dm-shadow: $(dkms status -m dm-shadow)"

step "apt-get purge"
# What remove left to dpkg (maintainer scripts with purge work): a
# package with nothing left is gone already, and apt knows it no more.
mapfile -t left < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${pkgs[@]}" 2>/dev/null |
	awk '$2 == "config-files" { print $1 }')
echo "left in config-files state: ${left[*]}"
for p in dm-shadow-dkms shadowctl; do
	case " ${left[*]} " in *" $p "*) ;; *) fail "$p has no purge step left after remove" ;; esac
done
DEBIAN_FRONTEND=noninteractive apt-get purge -y "${left[@]}" >"$WORK/apt-purge.log" 2>&1 || {
	cat "$WORK/apt-purge.log"
	fail "apt-get purge failed"
}
cat "$WORK/apt-purge.log"
echo "remove and purge: $((SECONDS - t0))s"
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | matches -v not-installed &&
		fail "$p is still known to dpkg: $(dpkg-query -W -f='${db:Status-Status}' "$p")"
done
cmp -s /var/lib/dm-shadow/catalog.json "$WORK/catalog.json" ||
	fail "purge did not keep the catalog as it was"

step "no file left behind but the catalog"
snapshot >"$WORK/after"
: >"$WORK/left"
comm -13 "$WORK/before" "$WORK/after" | while read -r path; do
	# A path the host has too is a file the package manager changed
	# (its database, logs, caches) or a directory above one; a
	# whiteout is a host file deleted (purge removes the module's
	# header cache, /var/cache/dm-shadow).
	[ -e "$lower$path" ] || [ -L "$lower$path" ] && continue
	[ -c "$upper$path" ] && [ "$(stat -c %t:%T "$upper$path")" = 0:0 ] && continue
	case "$path" in
	/var/lib/dm-shadow | /var/lib/dm-shadow/catalog.json) ;;
	# DKMS's module-signing key, made by dkms at its first build of
	# any module and kept with dkms, which stays installed.
	/var/lib/dkms/mok.key | /var/lib/dkms/mok.pub) ;;
	# The package manager's own records, not files of the packages.
	/var/lib/dpkg/* | /var/lib/apt/* | /var/cache/apt/* | /var/log/apt/* | \
		/var/log/dpkg.log | /var/cache/debconf/* | /var/cache/ldconfig/*) ;;
	*) echo "$path" >>"$WORK/left" ;;
	esac
done
if [ -s "$WORK/left" ]; then
	while read -r path; do ls -ld "$upper$path"; done <"$WORK/left" | head -n 40
	fail "left behind after purge: $(paste -sd' ' "$WORK/left")"
fi
echo "after purge: only /var/lib/dm-shadow/catalog.json of dm-shadow's files remains"
step "done (apt-get install with the DKMS build: ${install_secs}s)"
