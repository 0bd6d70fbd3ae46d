/*
 * src/decode/layout.ts in C: the message table and decoded record words the addons read in the decoder's memory.
 * Each addon exports the words it relies on as `layout`, and its loader compares them with layout.ts before use.
 */
#ifndef LUX_LAYOUT_H
#define LUX_LAYOUT_H

/* a message's words */
#define MSG_WORDS 8
#define M_REASON 2
#define M_FIRST 3
#define M_COUNT 4
#define M_PARTITION 5

/* a decoded record's words */
#define REC_WORDS 20
#define REC_BYTES (REC_WORDS * 4)
#define R_TIME_F64 0
#define R_EQUIPMENT 2
#define R_FRAME_SEQ 3
#define R_INDEX 4
#define R_CELL 5
#define R_DURATION 6
#define R_BYTES_UP 7
#define R_BYTES_DOWN 8
#define R_TARGET_CELL 9
#define R_APN_PTR 10
#define R_APN_LEN 11
#define R_VD_PTR 12
#define R_VD_LEN 13
#define R_IMSI_PTR 14
#define R_IMSI_DIGITS 15
#define R_CODES 16
#define R_CAUSE_SETUP 17
#define R_RSRP 18

/* the optional fields' flags */
#define F_APN 1
#define F_RSRP 2
#define F_TARGET_CELL 4
#define F_SETUP_LATENCY 8
#define F_VENDOR_DETAIL 16
#define F_IMSI 32

#endif
