# DMS_KERNEL_DIR
# --------------
# --with-kernel-dir=DIR: the kernel build directory that 'make module'
# hands to Kbuild.  Defaults to the running kernel's
# /lib/modules/$(uname -r)/build.  A missing directory is only a warning:
# 'make' builds userspace alone, and 'make module KDIR=...' can still name
# another kernel (the guest harness builds for kernels that are not running).
AC_DEFUN([DMS_KERNEL_DIR], [
	AC_ARG_WITH([kernel-dir],
		[AS_HELP_STRING([--with-kernel-dir=DIR],
			[kernel build directory for 'make module' @<:@/lib/modules/`uname -r`/build@:>@])],
		[KDIR=$withval], [KDIR=/lib/modules/`uname -r`/build])
	AC_MSG_CHECKING([for the kernel build directory])
	AS_IF([test -f "$KDIR/Makefile"],
		[AC_MSG_RESULT([$KDIR])],
		[AC_MSG_RESULT([$KDIR (not found)])
		 AC_MSG_WARN([no kernel build directory at $KDIR: 'make module' needs KDIR=/lib/modules/<version>/build (Debian package linux-headers-<version>)])])
	AC_SUBST([KDIR])
])
