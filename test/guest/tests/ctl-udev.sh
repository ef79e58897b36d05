#!/bin/bash
# udev/60-dm-shadow.rules with systemd-udevd running in the guest and
# shadowctl synchronising with it through libdevmapper's cookies: an
# exposed copy gets /dev/shadow/<volume>/<id> and /dev/shadow/by-id/<id>,
# is flagged (DM_NOSCAN, UDISKS_IGNORE ...), has no ID_FS_* properties and
# no /dev/disk/by-uuid link, so by-uuid still names the origin; unexpose
# removes the links.  A dm-snapshot volume's copy device stays hidden,
# also after a coldplug without udev's database, and its exposed copy is
# linked the same way.
# guest-timeout: 600
. "$SHADOW_TOP/test/guest/lib/ctl.sh"
. "$SHADOW_TOP/test/guest/lib/udevd.sh"
trap udevd_stop EXIT

step "start systemd-udevd with the rules from the source tree"
udevd_start
udevadm verify "$SHADOW_TOP/udev/60-dm-shadow.rules" 2>/dev/null ||
	echo "(udevadm verify is not available or not supported here)"

origin=$(loop_disk 64)
store=$(loop_disk 48)
mkfs.ext4 -q -F "$origin"
udevadm settle --timeout=60
fsuuid=$(blkid -o value -s UUID "$origin")
[ -n "$fsuuid" ] || fail "no ext4 UUID on $origin"
echo "origin $origin, file system UUID $fsuuid"

step "enable, create"
ctl enable "$origin" --store "$store" --name vol
udevadm settle --timeout=60
[ -L /dev/mapper/vol ] || fail "/dev/mapper/vol is not a udev symlink"
vol_node=$(readlink -f /dev/mapper/vol)
origin_node=$(readlink -f "$origin")
ctl -J create vol >"$WORK/create.json"
id=$(json "$WORK/create.json" 'd["set"]["shadows"][0]["id"]')
echo "shadow $id; vol is $vol_node on $origin_node"

# by_uuid: where /dev/disk/by-uuid/<fs uuid> points, or "none".
by_uuid() {
	if [ -e "/dev/disk/by-uuid/$fsuuid" ]; then
		readlink -f "/dev/disk/by-uuid/$fsuuid"
	else
		echo none
	fi
}
before=$(by_uuid)
echo "by-uuid before expose: $before"
[ "$before" = "$vol_node" ] || [ "$before" = "$origin_node" ] ||
	fail "by-uuid/$fsuuid points to $before, not to the origin"

step "expose"
ctl -J expose "$id" >"$WORK/expose.json"
dev=$(json "$WORK/expose.json" 'd["shadow"]["device"]')
[ "$dev" = "/dev/mapper/vol-shadow-$id" ] || fail "exposed as $dev"
udevadm settle --timeout=60
[ -L "$dev" ] || fail "$dev is not a udev symlink"
node=$(readlink -f "$dev")
want=/dev/dm-$(dmsetup info -c --noheadings -o minor "vol-shadow-$id" | tr -d ' ')
[ "$node" = "$want" ] || fail "$dev resolves to $node, expected $want"
[ "$(dmsetup info -c --noheadings -o uuid "vol-shadow-$id")" = "SHADOW-SNAP-vol-$id" ] ||
	fail "unexpected dm uuid $(dmsetup info -c --noheadings -o uuid "vol-shadow-$id")"
for l in "/dev/shadow/vol/$id" "/dev/shadow/by-id/$id"; do
	[ -L "$l" ] || { ls -lR /dev/shadow >&2 || true; fail "$l was not made"; }
	[ "$(readlink -f "$l")" = "$node" ] || fail "$l resolves to $(readlink -f "$l"), not $node"
	echo "$l -> $(readlink "$l")"
done
[ "$(md5_of "/dev/shadow/vol/$id")" = "$(md5_of "$dev")" ] || fail "the link reads other data"

step "udev properties of the copy"
udevadm info --query=property --name="$node" >"$WORK/props"
cat "$WORK/props"
for kv in DM_UUID=SHADOW-SNAP-vol-$id DM_NAME=vol-shadow-$id DM_SHADOW_COPY=1 \
	DM_SHADOW_VOLUME=vol DM_SHADOW_ID=$id DM_NOSCAN=1 DM_UDEV_LOW_PRIORITY_FLAG=1 \
	UDISKS_IGNORE=1 UDISKS_AUTO=0 UDISKS_PRESENTATION_HIDE=1; do
	grep -qx -- "$kv" "$WORK/props" || fail "udevadm info lacks $kv"
done
! grep -q '^ID_FS_' "$WORK/props" || fail "the copy was probed: $(grep '^ID_FS_' "$WORK/props")"
! grep -q '^SYSTEMD_READY=0' "$WORK/props" || fail "SYSTEMD_READY=0 on the copy"
grep '^DEVLINKS=' "$WORK/props" | matches "disk/by-uuid" && fail "the copy has a by-uuid link"
# The copy still has the same file system (and UUID) when asked directly.
[ "$(blkid -p -o value -s UUID "$dev")" = "$fsuuid" ] || fail "the copy does not carry the origin's UUID"

step "by-uuid still names the origin"
after=$(by_uuid)
echo "by-uuid after expose: $after"
[ "$after" != "$node" ] || fail "by-uuid/$fsuuid points to the copy $node"
[ "$after" = "$before" ] || fail "by-uuid/$fsuuid moved from $before to $after"

step "a change event (coldplug, udevadm trigger) keeps links and flags"
udevadm trigger --action=change --sysname-match="${node#/dev/}"
udevadm trigger --action=add --sysname-match="${node#/dev/}"
udevadm settle --timeout=60
[ "$(readlink -f "/dev/shadow/vol/$id")" = "$node" ] || fail "/dev/shadow/vol/$id lost after a trigger"
[ "$(by_uuid)" = "$before" ] || fail "by-uuid moved after a trigger: $(by_uuid)"
udevadm info --query=property --name="$node" | matches -x DM_NOSCAN=1 || fail "DM_NOSCAN lost after a trigger"

step "mount the copy by its stable link"
mkdir -p "$WORK/copy"
mount -o ro,noload "/dev/shadow/vol/$id" "$WORK/copy"
ls "$WORK/copy" >/dev/null
umount "$WORK/copy"

step "unexpose removes the links"
ctl unexpose "$id"
udevadm settle --timeout=60
for l in "$dev" "/dev/shadow/vol/$id" "/dev/shadow/by-id/$id"; do
	[ ! -e "$l" ] && [ ! -L "$l" ] || fail "$l still exists after unexpose"
done
[ "$(by_uuid)" = "$before" ] || fail "by-uuid moved after unexpose: $(by_uuid)"

step "clean up"
ctl delete "$id"
ctl disable vol
udevadm settle --timeout=60
[ ! -e /dev/mapper/vol ] || fail "/dev/mapper/vol left"
losetup -d "$origin" "$store"
udevadm settle --timeout=60
step "a dm-snapshot volume: its copy device is hidden, its exposed copy linked"
origin=$(loop_disk 32)
store=$(loop_disk 16)
mkfs.ext4 -q -F "$origin"
udevadm settle --timeout=60
fsuuid=$(blkid -o value -s UUID "$origin")
ctl enable "$origin" --store "$store" --provider dm-snapshot --name dsv
ctl -J create dsv >"$WORK/create.json"
id=$(json "$WORK/create.json" 'd["set"]["shadows"][0]["id"]')
udevadm settle --timeout=60
priv=$(readlink -f /dev/mapper/dsv-snap)
[ -b "$priv" ] || fail "no dm-snapshot copy device dsv-snap"
before=$(by_uuid)
[ "$before" != "$priv" ] || fail "by-uuid/$fsuuid points to the copy device $priv"
# private_hidden <when>: no blkid properties, the hiding flags.
private_hidden() {
	udevadm info --query=property --name="$priv" >"$WORK/props"
	! grep -q '^ID_FS_' "$WORK/props" || fail "dsv-snap was probed $1: $(grep '^ID_FS_' "$WORK/props")"
	grep -qx DM_NOSCAN=1 "$WORK/props" && grep -qx UDISKS_IGNORE=1 "$WORK/props" ||
		fail "dsv-snap is not flagged $1"
	! grep -q '^DM_SHADOW_COPY=' "$WORK/props" || fail "dsv-snap is taken for an exposed copy $1"
	[ "$(by_uuid)" != "$priv" ] || fail "by-uuid/$fsuuid points to the copy device $1"
}
private_hidden "when created"
# A coldplug that lost udev's database (and with it libdevmapper's
# private flags) must not probe it either.
udevadm info --cleanup-db
udevadm trigger --action=add --subsystem-match=block
udevadm settle --timeout=120
private_hidden "after a coldplug without udev's database"
ctl -J expose "$id" >"$WORK/expose.json"
dev=$(json "$WORK/expose.json" 'd["shadow"]["device"]')
udevadm settle --timeout=60
node=$(readlink -f "$dev")
[ "$node" != "$priv" ] || fail "the exposed copy is the private device"
[ "$(readlink -f "/dev/shadow/dsv/$id")" = "$node" ] || fail "/dev/shadow/dsv/$id does not name $node"
[ "$(readlink -f "/dev/shadow/by-id/$id")" = "$node" ] || fail "/dev/shadow/by-id/$id does not name $node"
udevadm info --query=property --name="$node" >"$WORK/props"
grep -qx DM_SHADOW_COPY=1 "$WORK/props" && grep -qx DM_NOSCAN=1 "$WORK/props" ||
	fail "the exposed dm-snapshot copy is not flagged"
! grep -q '^ID_FS_' "$WORK/props" || fail "the exposed dm-snapshot copy was probed"
[ "$(md5_of "/dev/shadow/dsv/$id")" = "$(md5_of "$priv")" ] || fail "the link reads other data than the copy"
ctl unexpose "$id"
udevadm settle --timeout=60
[ ! -L "/dev/shadow/dsv/$id" ] || fail "/dev/shadow/dsv/$id left after unexpose"
ctl delete "$id"
ctl disable dsv
udevadm settle --timeout=60
losetup -d "$origin" "$store"
udevadm settle --timeout=60

udevd_stop
trap - EXIT
echo "ctl-udev: ok"
