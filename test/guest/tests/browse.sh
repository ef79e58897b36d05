#!/bin/bash
# shadowctl browse: an ext4 and an XFS volume, each with three copies
# taken (fake clock, SHADOW_NOW) between changes to their files and one
# taken without a freeze while files were being written (a dirty
# journal).  'browse' mounts every copy read-only under
# /run/shadow/<volume>/<creation time>/, each with exactly the files of
# its point in time (checksums), the dirty ones without a journal replay
# (ext4 noload: the copy still needs recovery; XFS norecovery).  A copy
# that 'schedule run-now' makes while browsing is mounted too; one that
# 'schedule cleanup' deletes is unmounted and unexposed first.
# 'browse --stop' leaves no mount, no directory and no dm device behind.
# Bad input is refused and changes nothing.
# guest-timeout: 400
. "$SHADOW_TOP/test/guest/lib/ctl.sh"

T0=1767571200			# Monday 2026-01-05 00:00:00 UTC
conf=$WORK/schedule.conf
mkdir -p "$WORK/ev" "$WORK/xv"

# files <dir> <tag>: four files of random data named after <tag>.
files() {
	for i in 1 2 3 4; do
		head -c $((i * 29 * 1024 + RANDOM)) /dev/urandom >"$1/$2-$i"
	done
}
# sums <dir>: every file's md5 but load/'s and lost+found's, sorted.
sums() {
	(cd "$1" && find . -path ./load -prune -o -path ./lost+found -prune -o -type f -print0 |
		sort -z | xargs -0 md5sum)
}
# dir_of <hour>: the browse directory name of a copy made at T0 + <hour> h.
dir_of() {
	printf '2026-01-05T%02d:00:00Z' "$1"
}
# mounts_under_run_shadow: every mount point under /run/shadow.
mounts_under_run_shadow() {
	awk '$2 ~ "^/run/shadow(/|$)" { print $2 }' /proc/self/mounts | sort
}

step "an ext4 and an XFS volume, mounted, with three copies each"
ctl enable "$(loop_disk 16)" --store "$(loop_disk 16)" --name ev >/dev/null
mkfs.ext4 -q /dev/mapper/ev
mount /dev/mapper/ev "$WORK/ev"
ctl enable "$(loop_disk 320)" --store "$(loop_disk 32)" --name xv >/dev/null	# XFS: 300 MiB at least
mkfs.xfs -q /dev/mapper/xv
mount /dev/mapper/xv "$WORK/xv"
for v in ev xv; do
	mkdir "$WORK/$v/load"
	for k in 1 2 3; do
		files "$WORK/$v" "gen$k"
		[ "$k" = 1 ] || rm "$WORK/$v/gen$((k - 1))-2"	# a deletion shows too
		id=$(SHADOW_NOW=$((T0 + k * 3600)) ctl create "$v" --no-writers | awk '$1 == "shadow" { print $2 }')
		[ -n "$id" ] || fail "create $v gave no shadow id"
		sums "$WORK/$v" >"$WORK/sums-$v-$k"
		echo "$id" >"$WORK/id-$v-$k"
	done
done

step "a copy of each taken without a freeze, while files are written"
for v in ev xv; do
	load_start "$WORK/$v/load"
	while [ "$(load_done)" -lt 3 ]; do sleep 0.2; done
	kid=$([ $v = ev ] && echo 1000 || echo 2000)
	dmsetup suspend --nolockfs "$v"		# no freeze: the journal is dirty
	dmsetup message "$v" 0 create "$kid"
	dmsetup resume "$v"
	load_stop
	echo "$kid" >"$WORK/id-$v-dirty"
done
umount "$WORK/ev" "$WORK/xv"
# The next command that may change the catalog adopts the two snapshots.
ctl browse --stop 2>&1 | matches "adopted snapshot 1000 of volume ev" || fail "snapshot 1000 not adopted"
ctl list -o id,volume,created,state
before_dm=$(state_of_dm)
before_list=$(ctl list -n)

step "bad input is refused and changes nothing"
expect_exit 2 "browse nosuch: no such volume" ctl browse nosuch
expect_exit 2 "browse nosuch: no such volume" ctl browse --stop nosuch
expect_exit 1 "'browse' takes one volume" ctl browse
expect_exit 1 "'browse' takes one volume" ctl browse ev xv
expect_exit 1 "option --stop is not valid for 'list'" ctl list --stop
[ "$(state_of_dm)" = "$before_dm" ] || fail "bad input changed the dm devices"
[ "$(ctl list -n)" = "$before_list" ] || fail "bad input changed the catalog"
[ -z "$(mounts_under_run_shadow)" ] || fail "bad input mounted something"
[ ! -e /run/shadow ] || fail "bad input made /run/shadow"

step "browse mounts every copy read-only with its files at its point in time"
ctl browse ev
ctl -J browse xv >"$WORK/browse-xv.json"
for v in ev xv; do
	for k in 1 2 3; do
		d=/run/shadow/$v/$(dir_of "$k")
		opts=$(findmnt -no OPTIONS "$d") || fail "$d is not mounted"
		case ",$opts," in *,ro,*) ;; *) fail "$d is mounted $opts, not read-only" ;; esac
		sums "$d" | cmp -s - "$WORK/sums-$v-$k" || fail "$d does not hold the files of copy $k"
		! touch "$d/new" 2>/dev/null || fail "$d is writable"
		dev=$(findmnt -no SOURCE "$d")
		[ "$dev" = "/dev/mapper/$v-shadow-$(cat "$WORK/id-$v-$k")" ] || fail "$d is mounted from $dev"
	done
	echo "$v: copies 1-3 mounted read-only and exact"
done
python3 - "$WORK/browse-xv.json" "$(cat "$WORK/id-xv-1")" <<'PY' || fail "browse -J"
import json, sys
b = json.load(open(sys.argv[1]))["browsed"]
assert len(b) == 4, b
first = [x for x in b if x["shadow"] == int(sys.argv[2])][0]
assert first["created"] == 1767571200 + 3600, first
assert first["mountpoint"] == "/run/shadow/xv/2026-01-05T01:00:00Z", first
assert first["device"] == "/dev/mapper/xv-shadow-" + sys.argv[2], first
PY

step "the dirty copies are mounted without a journal replay"
for v in ev xv; do
	kid=$(cat "$WORK/id-$v-dirty")
	d=$(ctl list -n -o id,mountpoint | awk -v id="$kid" '$1 == id { print $2 }')
	case $d in /run/shadow/$v/20*) ;; *) fail "dirty copy $kid of $v is mounted on '$d'" ;; esac
	opts=$(findmnt -no OPTIONS "$d")
	echo "$v: dirty copy $kid on $d ($opts)"
	case ",$opts," in *,ro,*) ;; *) fail "$d is not read-only" ;; esac
	# What the last frozen copy held is there, untouched by the load.
	sums "$d" | cmp -s - "$WORK/sums-$v-3" || fail "dirty copy $kid of $v lost files of before the load"
done
dumpe2fs -h "/dev/mapper/ev-shadow-$(cat "$WORK/id-ev-dirty")" 2>/dev/null | matches '^Filesystem features:.*needs_recovery' ||
	fail "the dirty ext4 copy does not need recovery: it was not dirty, or it was replayed"
case ",$(findmnt -no OPTIONS "$(ctl list -n -o id,mountpoint | awk -v id="$(cat "$WORK/id-xv-dirty")" '$1 == id { print $2 }')")," in
*,norecovery,*) ;;
*) fail "the dirty XFS copy is mounted without norecovery" ;;
esac
ctl browse ev >"$WORK/out"
[ ! -s "$WORK/out" ] || fail "a second browse mounted again: $(cat "$WORK/out")"
[ "$(mounts_under_run_shadow | wc -l)" = 8 ] || fail "not 8 copies mounted: $(mounts_under_run_shadow)"

step "schedule: a new copy is mounted; a deleted one is unmounted first"
cat >"$conf" <<'EOF'
[ev]
interval = 1h
writers = none
keep_hourly = 1
keep_daily = 0
keep_weekly = 0
keep_monthly = 0
EOF
SHADOW_NOW=$((T0 + 4 * 3600)) ctl schedule run-now --config "$conf" | tee "$WORK/run.out"
new=$(awk '/: created set / { print $NF }' "$WORK/run.out")
d=/run/shadow/ev/$(dir_of 4)
[ "$(findmnt -no SOURCE "$d")" = "/dev/mapper/ev-shadow-$new" ] || fail "the new copy $new is not mounted on $d"
# An hour from the real now: the dirty copy (real time) is the newest, the only one kept.
SHADOW_NOW=$(($(date +%s) + 3600)) ctl schedule cleanup --config "$conf" | tee "$WORK/run.out"
for k in 1 2 3 4; do
	id=$([ "$k" = 4 ] && echo "$new" || cat "$WORK/id-ev-$k")
	u=$(grep -n "^policy ev: unmounted shadow $id of ev from /run/shadow/ev/$(dir_of "$k") to delete it$" "$WORK/run.out" | cut -d: -f1)
	x=$(grep -n "^policy ev: deleted shadow $id of ev (created .*): kept by none of" "$WORK/run.out" | cut -d: -f1)
	[ -n "$u" ] && [ -n "$x" ] && [ "$u" -lt "$x" ] || fail "shadow $id: not unmounted before its deletion"
	[ ! -e "/run/shadow/ev/$(dir_of "$k")" ] || fail "/run/shadow/ev/$(dir_of "$k") is left"
	[ ! -e "/dev/mapper/ev-shadow-$id" ] || fail "ev-shadow-$id is left"
done
[ "$(ctl list -n -o id,volume | awk '$2 == "ev"' | wc -l)" = 1 ] || fail "cleanup left more than the newest copy of ev"
[ "$(mounts_under_run_shadow | grep -c '^/run/shadow/ev/')" = 1 ] || fail "the dirty ev copy is no longer mounted"

step "browse --stop undoes it all"
ctl browse --stop ev
[ -z "$(mounts_under_run_shadow | grep '^/run/shadow/ev/')" ] || fail "ev copies still mounted"
[ ! -e /run/shadow/ev ] || fail "/run/shadow/ev is left"
[ "$(mounts_under_run_shadow | wc -l)" = 4 ] || fail "browse --stop ev touched xv"
ctl -J browse --stop >"$WORK/stop.json"
[ "$(json "$WORK/stop.json" 'len(d["stopped"])')" = 4 ] || fail "browse --stop -J: $(cat "$WORK/stop.json")"
[ -z "$(mounts_under_run_shadow)" ] || fail "mounts left: $(mounts_under_run_shadow)"
[ ! -e /run/shadow ] || fail "/run/shadow is left"
[ "$(state_of_dm)" = "$before_dm" ] || { state_of_dm >&2; fail "dm devices differ from before browse"; }
[ -z "$(ctl list -n -o device | grep -v '^-$')" ] || fail "a copy is still exposed"
ctl browse --stop		# nothing to do: fine

ctl disable --force ev >/dev/null
ctl disable --force xv >/dev/null
echo "browse: every copy mounted read-only at its time, and taken away again"
