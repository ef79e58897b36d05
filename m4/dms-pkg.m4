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

# DMS_OPTIONAL_PKG(VARIABLE-PREFIX, PKG-CONFIG-MODULE, DEBIAN-PACKAGE,
#                  WITH-NAME, WHAT-IT-BUILDS)
# ------------------------------------------------------------------
# A library that only some parts need.  --with-NAME=auto (the default)
# builds those parts when pkg-config finds the library and leaves them
# out otherwise; --with-NAME (=yes) makes a missing library an error, as
# DMS_REQUIRE_PKG does; --without-NAME leaves the parts out.  Sets the
# automake conditional HAVE_<VARIABLE-PREFIX>, and appends a line to
# dms_summary saying whether WHAT-IT-BUILDS is built and, if not, why
# (configure prints it at the end).
AC_DEFUN([DMS_OPTIONAL_PKG], [
	AC_ARG_WITH([$4],
		[AS_HELP_STRING([--without-$4],
			[do not build $5 (needs $2, Debian package $3) @<:@auto: if found@:>@])],
		[], [with_[]m4_translit([$4], [-], [_])=auto])
	dms_want=$with_[]m4_translit([$4], [-], [_])
	dms_have_$1=no
	AS_CASE([$dms_want],
		[no], [dms_why="not built: --without-$4"],
		[PKG_CHECK_MODULES([$1], [$2], [dms_have_$1=yes], [
			AS_IF([test "x$dms_want" = xyes],
				[AC_MSG_ERROR([--with-$4 given, but $2 not found by pkg-config ($$1_PKG_ERRORS)
On Debian, install it with: apt-get install $3])])
			dms_why="not built: pkg-config finds no $2 (Debian package $3)"])])
	AS_IF([test "x$dms_have_$1" = xyes], [dms_why="built (with $2)"])
	AM_CONDITIONAL([HAVE_$1], [test "x$dms_have_$1" = xyes])
	AC_SUBST([WITH_$1], [$dms_have_$1])
	dms_summary="$dms_summary
  m4_format([%-19s], [$5:])$dms_why"
])
