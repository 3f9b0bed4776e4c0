/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_ctlabel.c - a rewritten flow's state in conntrack labels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ctlabel.h"

static struct ctlabel
sample(void)
{
	return (struct ctlabel){ .flags = CTLABEL_SHIFT, .offset = 0x80000001u,
				 .syn_val = 0xfedcba98u, .syn_wall = 0x01234567u };
}

/* Label bit n as the kernel numbers it: bit n % 64 of 64-bit word n / 64. */
static int
label_bit(const uint8_t *labels, unsigned n)
{
	uint64_t w[2];

	memcpy(w, labels, sizeof(w));
	return (int)((w[n / 64] >> (n % 64)) & 1);
}

static void
record_comes_back_from_every_first_bit(void **state)
{
	(void)state;
	for (unsigned first = 0; first <= CTLABEL_FIRST_MAX; first++) {
		struct ctlabel l = sample(), back;
		uint8_t labels[CTLABEL_SIZE], mask[CTLABEL_SIZE];

		ctlabel_encode(&l, first, labels, mask);
		assert_true(ctlabel_decode(labels, first, &back));
		assert_int_equal(back.flags, l.flags);
		assert_int_equal(back.offset, l.offset);
		assert_int_equal(back.syn_val, l.syn_val);
		assert_int_equal(back.syn_wall, l.syn_wall);
	}
}

static void
mask_covers_exactly_the_records_bits(void **state)
{
	struct ctlabel l = sample();
	uint8_t labels[CTLABEL_SIZE], mask[CTLABEL_SIZE];
	unsigned first = 17;

	(void)state;
	ctlabel_encode(&l, first, labels, mask);
	for (unsigned n = 0; n < 128; n++) {
		int inside = n >= first && n < first + CTLABEL_BITS;

		assert_int_equal(label_bit(mask, n), inside);
		if (!inside)
			assert_int_equal(label_bit(labels, n), 0);
	}
}

static void
magic_sits_at_the_first_bit(void **state)
{
	struct ctlabel l = sample();
	uint8_t labels[CTLABEL_SIZE], mask[CTLABEL_SIZE];

	(void)state;
	ctlabel_encode(&l, CTLABEL_FIRST_DEFAULT, labels, mask);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(label_bit(labels, CTLABEL_FIRST_DEFAULT + i),
				 (CTLABEL_MAGIC >> i) & 1);
}

static void
other_bits_of_the_operator_do_not_disturb_the_record(void **state)
{
	struct ctlabel l = sample(), back;
	uint8_t labels[CTLABEL_SIZE], mask[CTLABEL_SIZE];

	(void)state;
	ctlabel_encode(&l, CTLABEL_FIRST_DEFAULT, labels, mask);
	labels[0] |= 0xff;		/* bits 0..7: someone else's */
	assert_true(ctlabel_decode(labels, CTLABEL_FIRST_DEFAULT, &back));
	assert_int_equal(back.offset, l.offset);
}

static void
empty_labels_hold_no_record(void **state)
{
	uint8_t labels[CTLABEL_SIZE] = { 0 };
	struct ctlabel back;

	(void)state;
	assert_false(ctlabel_decode(labels, CTLABEL_FIRST_DEFAULT, &back));
}

static void
record_read_at_another_first_bit_is_refused(void **state)
{
	struct ctlabel l = sample(), back;
	uint8_t labels[CTLABEL_SIZE], mask[CTLABEL_SIZE];

	(void)state;
	ctlabel_encode(&l, 8, labels, mask);
	assert_false(ctlabel_decode(labels, 9, &back));
	assert_false(ctlabel_decode(labels, 4, &back));
}

static void
record_without_flags_is_refused(void **state)
{
	struct ctlabel l = sample(), back;
	uint8_t labels[CTLABEL_SIZE], mask[CTLABEL_SIZE];

	(void)state;
	l.flags = 0;
	ctlabel_encode(&l, 0, labels, mask);
	assert_false(ctlabel_decode(labels, 0, &back));
}

static void
unknown_flag_is_refused(void **state)
{
	struct ctlabel l = sample(), back;
	uint8_t labels[CTLABEL_SIZE], mask[CTLABEL_SIZE];
	uint64_t w[2];

	(void)state;
	ctlabel_encode(&l, 0, labels, mask);
	memcpy(w, labels, sizeof(w));
	w[0] |= 1ull << (4 + 3);	/* flags bit 3: no such flag */
	memcpy(labels, w, sizeof(w));
	assert_false(ctlabel_decode(labels, 0, &back));
}

static void
first_bit_past_the_end_is_refused(void **state)
{
	uint8_t labels[CTLABEL_SIZE];

	(void)state;
	memset(labels, 0xff, sizeof(labels));
	assert_false(ctlabel_decode(labels, CTLABEL_FIRST_MAX + 1, &(struct ctlabel){ 0 }));
}

static void
age_adds_the_skew_to_the_time_since_the_syn(void **state)
{
	struct ctlabel l = sample();

	(void)state;
	assert_int_equal(ctlabel_age(&l, l.syn_wall + 5000, 100), 5100);
	assert_int_equal(ctlabel_age(&l, l.syn_wall, 100), 100);
}

static void
syn_in_the_future_reads_as_the_skew_alone(void **state)
{
	struct ctlabel l = sample();

	(void)state;
	assert_int_equal(ctlabel_age(&l, l.syn_wall - 30, 100), 100);
}

static void
age_is_counted_across_the_wrap_of_the_clock(void **state)
{
	struct ctlabel l = sample();

	(void)state;
	l.syn_wall = 0xfffffff0u;
	assert_int_equal(ctlabel_age(&l, 0x10, 0), 0x20);
}

static void
bound_grows_with_the_age_at_the_rate_margin(void **state)
{
	struct ctlabel l = sample();

	(void)state;
	assert_int_equal(ctlabel_bound(&l, 0), l.syn_val);
	assert_int_equal(ctlabel_bound(&l, 10240), l.syn_val + 10240 + 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(record_comes_back_from_every_first_bit),
		cmocka_unit_test(mask_covers_exactly_the_records_bits),
		cmocka_unit_test(magic_sits_at_the_first_bit),
		cmocka_unit_test(other_bits_of_the_operator_do_not_disturb_the_record),
		cmocka_unit_test(empty_labels_hold_no_record),
		cmocka_unit_test(record_read_at_another_first_bit_is_refused),
		cmocka_unit_test(record_without_flags_is_refused),
		cmocka_unit_test(unknown_flag_is_refused),
		cmocka_unit_test(first_bit_past_the_end_is_refused),
		cmocka_unit_test(age_adds_the_skew_to_the_time_since_the_syn),
		cmocka_unit_test(syn_in_the_future_reads_as_the_skew_alone),
		cmocka_unit_test(age_is_counted_across_the_wrap_of_the_clock),
		cmocka_unit_test(bound_grows_with_the_age_at_the_rate_margin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
