#!/bin/bash
# Names and limits (shadowctl(8), NAMES): a name that breaks a rule is
# refused up front, the rule named, nothing changed (no dm device, the
# catalog as it was); the longest names allowed work through enable,
# create and expose on both providers (the uuids made from them reach
# device-mapper's limit, not past it); a mounted raw device is refused as
# in use (exit 3); a writer's 1000-byte message arrives whole; enable says
# nothing on stderr without --verbose; list writers --json names its
# directory.
# guest-timeout: 300
. "$SHADOW_TOP/test/guest/lib/ctl.sh"

# name_of <length> <letter>
name_of() { head -c "$1" /dev/zero | tr '\0' "$2"; }

uuid_of() { dmsetup info -c --noheadings -o uuid "$1"; }

origin=$(loop_disk 16)
store=$(loop_disk 8)
o2=$(loop_disk 16)
s2=$(loop_disk 8)
long=$(name_of 93 v)

step "the longest volume name: enabled, quietly"
ctl enable "$origin" --store "$store" --name "$long" >"$WORK/enable.out" 2>"$WORK/enable.err"
cat "$WORK/enable.out"
[ ! -s "$WORK/enable.err" ] || { cat "$WORK/enable.err"; fail "enable wrote on stderr without --verbose"; }
grep -qF "volume $long enabled with dm-shadow: /dev/mapper/$long" "$WORK/enable.out" ||
	fail "enable did not say so"
[ "$(uuid_of "$long")" = "SHADOW-$long" ] || fail "uuid $(uuid_of "$long")"

snapshot_state() {
	state_of_dm
	md5sum <"$SHADOW_STATE_DIR/catalog.json"
}
before=$(snapshot_state)
# refused <text> <command...>: exit 3, <text> on stderr, nothing changed.
refused() {
	expect_exit 3 "$@"
	shift
	[ "$(snapshot_state)" = "$before" ] || fail "state changed after: $*"
}

step "names that break a rule: refused, the rule named"
refused "bad volume name 'control': it is reserved" ctl enable "$o2" --store "$s2" --name control
refused "bad volume name '-x': it starts with '-'" ctl enable "$o2" --store "$s2" --name -x
refused "bad volume name '-x': it starts with '-'" ctl enable "$o2" --store "$s2" --name=-x
refused "bad volume name '$(name_of 94 v)': it is 94 bytes long; the limit is 93" \
	ctl enable "$o2" --store "$s2" --name "$(name_of 94 v)"
refused "bad volume name 'a b': character 0x20 at position 2 is not allowed" \
	ctl enable "$o2" --store "$s2" --name "a b"
refused "bad volume name 'a/b': character '/' at position 2" ctl enable "$o2" --store "$s2" --name a/b
refused "bad volume name '..': '.' and '..' are not names" ctl enable "$o2" --store "$s2" --name ..
refused "bad volume name '': it is empty" ctl enable "$o2" --store "$s2" --name ""

step "create and expose with the longest names"
id=$(ctl -J create "$long" --no-writers | python3 -c 'import json,sys; print(json.load(sys.stdin)["set"]["shadows"][0]["id"])')
before=$(snapshot_state)
refused "bad name 'control': it is reserved" ctl expose "$id" --name control
refused "bad name '-c': it starts with '-'" ctl expose "$id" --name -c
refused "it is 128 bytes long; the limit is 127" ctl expose "$id" --name "$(name_of 128 e)"
ctl expose "$id"
[ -b "/dev/mapper/$long-shadow-$id" ] || fail "no /dev/mapper/$long-shadow-$id"
[ "$(uuid_of "$long-shadow-$id")" = "SHADOW-SNAP-$long-$id" ] || fail "uuid $(uuid_of "$long-shadow-$id")"
ctl unexpose "$id"
ctl expose "$id" --name "$(name_of 127 e)"
[ -b "/dev/mapper/$(name_of 127 e)" ] || fail "no device of the longest name"
ctl unexpose "$id"
ctl delete "$id"

step "dm-snapshot: its copy's uuid is the longest made"
snaplong=$(name_of 93 w)
ctl enable "$o2" --store "$s2" --name "$snaplong" --provider dm-snapshot
sid=$(ctl -J create "$snaplong" --no-writers | python3 -c 'import json,sys; print(json.load(sys.stdin)["set"]["shadows"][0]["id"])')
u=$(uuid_of "$snaplong-snap")
[ "${#u}" -le 128 ] && [ "${u#SHADOW-DMSNAP-"$snaplong"-}" != "$u" ] || fail "copy uuid $u"
ctl expose "$sid"
ctl unexpose "$sid"
ctl disable --force "$snaplong"

step "a mounted raw device: in use, exit 3"
o3=$(loop_disk 16)
s3=$(loop_disk 8)
mkfs.ext4 -q -F "$o3"
mkdir -p "$WORK/m"
mount "$o3" "$WORK/m"
before=$(snapshot_state)
refused "enable $o3: it is in use" ctl enable "$o3" --store "$s3" --name mnt
umount "$WORK/m"

step "--verbose says which provider, and why"
ctl -v -J enable "$o3" --store "$s3" --name mnt >"$WORK/enable2.json" 2>"$WORK/enable2.err"
grep -q "provider dm-shadow chosen (auto)" "$WORK/enable2.err" || { cat "$WORK/enable2.err"; fail "-v said no choice"; }
[ "$(json "$WORK/enable2.json" 'd["volume"]["provider"]')" = dm-shadow ] || fail "JSON provider"
ctl disable mnt

step "a writer's 1000-byte message arrives whole"
WD=$WORK/writers.d
mkdir -p "$WD"
chmod 755 "$WD"
msg="begin-$(name_of 990 x)-end"
[ "${#msg}" = 1000 ] || fail "message of ${#msg} bytes"
printf '#!/bin/sh\nwhile IFS= read -r line; do\n\techo %s\ndone\n' \
	"'{\"status\":\"error\",\"message\":\"$msg\"}'" >"$WD/talker"
chmod 755 "$WD/talker"
expect_exit 7 "Failed to create the set: writer talker, identify: status error: $msg: a writer failed" \
	ctl create "$long" --writers-dir "$WD"
[ "$(json "$SHADOW_STATE_DIR/catalog.json" '[w["message"] for w in d["writers"] if w["name"] == "talker"][0]')" = \
	"status error: $msg" ] || fail "the catalog's message is not whole"
ctl -J list writers --writers-dir "$WD" >"$WORK/writers.json"
[ "$(json "$WORK/writers.json" 'd["directory"]')" = "$WD" ] || fail "list writers: directory"
[ "$(json "$WORK/writers.json" 'd["writers"][0]["last_message"]')" = "status error: $msg" ] ||
	fail "list writers: the message is not whole"

step "clean up"
ctl disable --force "$long"
[ -z "$(dmsetup ls | grep -v 'No devices')" ] || { dmsetup ls; fail "dm devices left"; }
echo "ctl-names: ok"
