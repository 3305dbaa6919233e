/*
 * fuzz_event.c — libFuzzer target over the binlog decoder: the input is a binlog (magic and
 * events) decoded to its end with row images walked and rendered, payloads decompressed.
 * The first byte chooses whether checksums are verified (so damage reaches the decoders).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/binlog.h"
#include "engine/rowimage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static struct barge_value before[BARGE_BINLOG_MAX_COLUMNS], after[BARGE_BINLOG_MAX_COLUMNS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct barge_binlog b;
	struct barge_err err;
	struct barge_buf out;
	size_t o;

	if (len < 1)
		return 0;
	barge_binlog_init(&b);
	b.verify_checksum = data[0] & 1;
	b.max_event = 16u << 20; /* keep the fuzzer's memory small */
	data++;
	len--;
	o = (len >= 4 && memcmp(data, BARGE_BINLOG_MAGIC, 4) == 0) ? 4 : 0;
	barge_buf_init(&out, 1u << 24);
	while (o + BARGE_BINLOG_HEADER <= len) {
		struct barge_event ev;
		uint32_t size = (uint32_t)data[o + 9] | (uint32_t)data[o + 10] << 8 |
				(uint32_t)data[o + 11] << 16 | (uint32_t)data[o + 12] << 24;

		if (size < BARGE_BINLOG_HEADER || size > len - o)
			break;
		if (barge_binlog_decode(&b, data + o, size, o, false, &ev, &err) != 0)
			break;
		if (barge_ev_is_rows(ev.type)) {
			struct barge_rows it;

			if (barge_rows_begin(&b, &ev, &it, &err) == 0)
				while (barge_rows_next(&it, before, after, &err) == 1)
					for (size_t i = 0; i < it.map->ncols; i++) {
						if (it.kind != 'd')
							barge_value_append_sql(&out, &after[i], i & 1 ? BARGE_SQL_UNSIGNED : 0,
									       "utf8mb4");
						if (it.kind != 'i')
							barge_value_append_text(&out, &before[i], false);
						barge_buf_reset(&out);
					}
		} else if (ev.type == BARGE_EV_TRANSACTION_PAYLOAD) {
			const uint8_t *p;
			size_t n;

			barge_binlog_payload(&b, &ev, &p, &n, &err);
		} else if (ev.type == BARGE_EV_PREVIOUS_GTIDS) {
			barge_prev_gtids_text(&ev, &out, &err);
			barge_buf_reset(&out);
		}
		o += size;
	}
	barge_buf_dispose(&out);
	barge_binlog_dispose(&b);
	return 0;
}
