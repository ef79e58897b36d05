#!/bin/bash
# Every bad input gets a clear error, its documented exit code, and
# changes nothing: no dm device, no catalog change, the store untouched.
# guest-timeout: 300
. "$SHADOW_TOP/test/guest/lib/ctl.sh"

origin=$(loop_disk 64)
store=$(loop_disk 24)
tiny=$(loop_disk 128K)
other=$(loop_disk 16)
spare=$(loop_disk 16)	# held by nothing (a device in use is refused first)
dmsetup create taken --table "0 $(sectors "$other") linear $other 0"
ctl enable "$origin" --store "$store" --name vol
ctl create vol >/dev/null

snapshot_state() {
	state_of_dm
	md5sum <"$SHADOW_STATE_DIR/catalog.json"
	head -c 512 "$tiny" | md5sum
}
unchanged() { # <command...>: the expected refusal changed nothing
	[ "$(snapshot_state)" = "$before" ] || fail "state changed after: $*"
}
before=$(snapshot_state)

# expect <exit> <text> <args...>
expect() {
	expect_exit "$@"
	shift 2
	unchanged "$@"
}

step "usage errors: exit 1"
expect 1 "unknown command 'frobnicate'" ctl frobnicate
expect 1 "unknown option '--bogus'" ctl list --bogus
expect 1 "no command given" ctl
expect 1 "'enable' needs --store" ctl enable "$origin"
expect 1 "option --store is not valid for 'list'" ctl list --store x
expect 1 "bad chunk size" ctl enable "$other" --store "$tiny" --chunk-size 4Q
expect 1 "cannot list 'things'" ctl list things
expect 1 "bad shadow id" ctl delete abc
expect 1 "'delete' takes one of" ctl delete 1 --set 1

step "not found: exit 2"
expect 2 "open the device: No such file" ctl enable /dev/nonexistent --store "$tiny"
expect 2 "open the store /dev/nonexistent" ctl enable "$other" --store /dev/nonexistent
expect 2 "no such shadow copy" ctl delete 99
expect 2 "no such shadow copy" ctl expose 99
expect 2 "no volume named nope" ctl create vol nope
expect 2 "no such volume" ctl disable nope
expect 2 "no such set" ctl delete --set 42
expect 2 "it is not exposed" ctl unexpose 1

step "refused: exit 3"
expect 3 "a device-mapper device named taken exists" ctl enable "$other" --store "$tiny" --name taken
expect 3 "named vol exists" ctl enable "$tiny" --store "$other" --name vol
expect 3 "too small" ctl enable "$spare" --store "$tiny" --name small
expect 3 "is already volume vol" ctl enable "$origin" --store "$tiny" --name again
expect 3 "is the store of volume vol" ctl enable "$store" --store "$tiny" --name s2
expect 3 "the store is the device itself" ctl enable "$tiny" --store "$tiny"
expect 3 "unknown method mirror (cow, row or clone)" ctl enable "$other" --store "$tiny" --method mirror
expect 3 "chunk size must be" ctl enable "$other" --store "$tiny" --chunk-size 2K
expect 3 "Block device required" ctl enable /etc/passwd --store "$tiny"
expect 3 "given twice" ctl create vol vol
expect 3 "it has 1 shadow copy" ctl disable vol
expect 3 "bad volume name 'a/b': character '/' at position 2" ctl enable "$other" --store "$tiny" --name "a/b"
expect 3 "it is in use (mounted, or held by another device?)" ctl enable "$other" --store "$spare" --name held
expect 3 "exclusively (in use?)" ctl enable "$tiny" --store "$other" --name busy
junk=$(loop_disk 16)
head -c 4096 /dev/urandom | dd of="$junk" bs=4096 conv=notrunc,fsync status=none
before=$(snapshot_state)
expect 3 "not a dm-shadow store" ctl enable "$tiny" --store "$junk" --name junk

step "malformed catalog: refused, left alone"
cp "$SHADOW_STATE_DIR/catalog.json" "$WORK/good.json"
echo '{ "version": 1, "next_id": ' >"$SHADOW_STATE_DIR/catalog.json"
expect_exit 5 "catalog.json: not JSON" ctl list
grep -q next_id "$SHADOW_STATE_DIR/catalog.json" || fail "the malformed catalog was overwritten"
cp "$WORK/good.json" "$SHADOW_STATE_DIR/catalog.json"

step "clean up"
ctl disable --force vol
dmsetup remove taken
[ -z "$(dmsetup ls | grep -v 'No devices')" ] || { dmsetup ls; fail "dm devices left"; }
echo "ctl-badinput: ok"
