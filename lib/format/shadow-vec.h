/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A growable array of fixed-size elements, for the offline tools' walks
 * that collect an unknown number of entries.
 */
#ifndef SHADOW_VEC_H
#define SHADOW_VEC_H

#include <stdint.h>
#include <stdlib.h>

struct shadow_vec {
	void *v;
	size_t n, cap, size;	/* size: of one element, set by the user */
};

/* Room for one more element, zeroed nowhere: its address, or NULL (ENOMEM). */
static inline void *shadow_vec_push(struct shadow_vec *v)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		void *p = reallocarray(v->v, cap, v->size);

		if (!p)
			return NULL;
		v->v = p;
		v->cap = cap;
	}
	return (uint8_t *)v->v + v->n++ * v->size;
}

#endif
