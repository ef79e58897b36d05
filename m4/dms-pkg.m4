# DMS_REQUIRE_PKG(VARIABLE-PREFIX, PKG-CONFIG-MODULE, DEBIAN-PACKAGE)
# ------------------------------------------------------------------
# PKG_CHECK_MODULES that fails with a message naming the Debian package
# which provides the missing library, instead of pkg-config's raw output.
AC_DEFUN([DMS_REQUIRE_PKG], [
	PKG_CHECK_MODULES([$1], [$2], [], [
		AC_MSG_ERROR([$2 not found by pkg-config ($$1_PKG_ERRORS)
On Debian, install it with: apt-get install $3
(or run scripts/install-deps as root, which installs every dependency)])
	])
])
