/*
 * i8042.c - controller commands after the IBM PS/2 technical reference (8042 command set as
 * PC chipsets implement it), keyboard commands after the PS/2 keyboard protocol.
 *
 * Bytes reach the single-byte output buffer from three bounded queues: controller answers first
 * (they are never held back), then the keyboard's, then the mouse port's; a disabled interface
 * holds its queue back, as the controller does by holding that clock line low. With translation
 * on (command byte bit 6) keyboard bytes pass through the set 2 to set 1 table; only the entries
 * for bytes this keyboard can send are needed (it has no keys): the ID byte 0x83 becomes 0x41
 * and the scan set numbers 1-3 become 0x43, 0x41, 0x3F. The mouse port has no mouse: every
 * byte sent to it is answered by 0xFE with the timeout bit, as a controller with an empty port
 * does, so drivers give up at once instead of waiting.
 */
#include "devices/i8042.h"

#include <string.h>

#define KBD_ACK 0xFA
#define KBD_RESEND 0xFE
#define KBD_BAT_OK 0xAA
#define KBD_ECHO 0xEE
#define KBD_TYPEMATIC_DEFAULT 0x2B
#define OUT_RESET 0x01
#define OUT_A20 0x02
#define OUT_LIVE 0x30 /* bits 4-5 show IRQ 1 and IRQ 12 */
#define SYSCTL_A_RESET 0x01
#define SYSCTL_A_A20 0x02

static void push(struct i8042_queue *q, uint8_t data, uint8_t flags)
{
    if (q->count >= I8042_QUEUE)
        return;
    q->b[(q->head + q->count) % I8042_QUEUE] = (struct i8042_byte){data, flags};
    q->count++;
}

static struct i8042_byte pop(struct i8042_queue *q)
{
    struct i8042_byte b = q->b[q->head];
    q->head = (uint8_t)((q->head + 1) % I8042_QUEUE);
    q->count--;
    return b;
}

static uint8_t translate(uint8_t b)
{
    switch (b) {
    case 0x01:
        return 0x43;
    case 0x02:
        return 0x41;
    case 0x03:
        return 0x3F;
    case 0x83:
        return 0x41;
    default:
        return b;
    }
}

/* Move the next deliverable byte into an empty output buffer. */
static void refill(struct i8042 *k)
{
    uint8_t ccb = k->ram[0];
    if (k->obf)
        return;
    if (k->ctrl.count) {
        k->ob = pop(&k->ctrl);
    } else if (k->kbd.count && !(ccb & I8042_CTR_KBDDIS)) {
        k->ob = pop(&k->kbd);
        if (ccb & I8042_CTR_XLATE)
            k->ob.data = translate(k->ob.data);
    } else if (k->aux.count && !(ccb & I8042_CTR_AUXDIS)) {
        k->ob = pop(&k->aux);
    } else {
        return;
    }
    k->obf = true;
    k->ob_loads++;
}

bool i8042_irq1(const struct i8042 *k)
{
    return k->obf && !(k->ob.flags & I8042_STR_AUXDATA) && (k->ram[0] & I8042_CTR_KBDINT);
}

bool i8042_irq12(const struct i8042 *k)
{
    return k->obf && (k->ob.flags & I8042_STR_AUXDATA) && (k->ram[0] & I8042_CTR_AUXINT);
}

bool i8042_a20(const struct i8042 *k)
{
    return (k->outport & OUT_A20) || (k->sysctl_a & SYSCTL_A_A20);
}

bool i8042_take_reset(struct i8042 *k)
{
    bool r = k->reset_request;
    k->reset_request = false;
    return r;
}

static void kbd_defaults(struct i8042 *k)
{
    k->kbd_rate = KBD_TYPEMATIC_DEFAULT;
    k->kbd_set = 2;
}

void i8042_init(struct i8042 *k)
{
    memset(k, 0, sizeof *k);
    k->ram[0] = I8042_CTR_KBDINT | I8042_CTR_SYS | I8042_CTR_AUXDIS | I8042_CTR_XLATE;
    k->outport = 0xCC | OUT_A20 | OUT_RESET;
    k->kbd_scanning = true;
    kbd_defaults(k);
}

/* ---- the keyboard ---- */

static void kbd_send(struct i8042 *k, uint8_t b)
{
    push(&k->kbd, b, 0);
    k->kbd_last = b;
}

static void kbd_param(struct i8042 *k, uint8_t cmd, uint8_t v)
{
    switch (cmd) {
    case 0xED: /* set LEDs */
        k->kbd_leds = v & 7;
        kbd_send(k, KBD_ACK);
        break;
    case 0xF3: /* typematic rate and delay */
        k->kbd_rate = v & 0x7F;
        kbd_send(k, KBD_ACK);
        break;
    default: /* 0xF0: get (0) or select (1-3) the scan code set */
        if (v > 3) {
            kbd_send(k, KBD_RESEND);
            break;
        }
        kbd_send(k, KBD_ACK);
        if (v == 0)
            kbd_send(k, k->kbd_set);
        else
            k->kbd_set = v;
        break;
    }
}

static void kbd_byte(struct i8042 *k, uint8_t v)
{
    if (k->kbd_param_cmd) {
        uint8_t cmd = k->kbd_param_cmd;
        k->kbd_param_cmd = 0;
        kbd_param(k, cmd, v);
        return;
    }
    switch (v) {
    case 0xED:
    case 0xF0:
    case 0xF3:
        kbd_send(k, KBD_ACK);
        k->kbd_param_cmd = v;
        break;
    case 0xEE:
        kbd_send(k, KBD_ECHO);
        break;
    case 0xF2: /* identify: an MF2 keyboard */
        kbd_send(k, KBD_ACK);
        kbd_send(k, 0xAB);
        kbd_send(k, 0x83);
        break;
    case 0xF4:
        kbd_send(k, KBD_ACK);
        k->kbd_scanning = true;
        break;
    case 0xF5:
        kbd_send(k, KBD_ACK);
        k->kbd_scanning = false;
        kbd_defaults(k);
        break;
    case 0xF6:
        kbd_send(k, KBD_ACK);
        kbd_defaults(k);
        break;
    case 0xF7: case 0xF8: case 0xF9: case 0xFA: case 0xFB: case 0xFC: case 0xFD:
        kbd_send(k, KBD_ACK); /* scan set 3 key types: accepted, nothing to change */
        break;
    case 0xFE:
        kbd_send(k, k->kbd_last);
        break;
    case 0xFF: /* reset: acknowledge, then the basic assurance test passes */
        kbd_send(k, KBD_ACK);
        kbd_send(k, KBD_BAT_OK);
        k->kbd_scanning = true;
        kbd_defaults(k);
        break;
    default:
        kbd_send(k, KBD_RESEND);
        break;
    }
}

/* ---- the controller ---- */

static uint8_t outport_value(const struct i8042 *k)
{
    return (uint8_t)((k->outport & ~OUT_LIVE) | (i8042_irq1(k) ? 0x10 : 0) |
                     (i8042_irq12(k) ? 0x20 : 0));
}

static void write_outport(struct i8042 *k, uint8_t v)
{
    k->outport = v & (uint8_t)~OUT_LIVE;
    if (!(v & OUT_RESET))
        k->reset_request = true; /* the reset line is active low */
}

static void command(struct i8042 *k, uint8_t cmd)
{
    k->pending_cmd = 0;
    if (cmd >= 0x20 && cmd <= 0x3F) {
        push(&k->ctrl, k->ram[cmd & 0x1F], 0);
        return;
    }
    if ((cmd >= 0x60 && cmd <= 0x7F) || (cmd >= 0xD1 && cmd <= 0xD4)) {
        k->pending_cmd = cmd; /* the data byte follows at port 0x60 */
        return;
    }
    if (cmd >= 0xF0) {
        if (!(cmd & 1))
            k->reset_request = true; /* pulse output port bit 0 (the reset line) */
        return;
    }
    switch (cmd) {
    case 0xA7:
        k->ram[0] |= I8042_CTR_AUXDIS;
        break;
    case 0xA8:
        k->ram[0] &= (uint8_t)~I8042_CTR_AUXDIS;
        break;
    case 0xA9: /* mouse interface test: no clock or data line stuck */
    case 0xAB: /* keyboard interface test */
    case 0xE0: /* test inputs */
        push(&k->ctrl, 0x00, 0);
        break;
    case 0xAA: /* self test */
        k->ram[0] |= I8042_CTR_SYS;
        push(&k->ctrl, 0x55, 0);
        break;
    case 0xAD:
        k->ram[0] |= I8042_CTR_KBDDIS;
        break;
    case 0xAE:
        k->ram[0] &= (uint8_t)~I8042_CTR_KBDDIS;
        break;
    case 0xC0: /* input port: keyboard not inhibited */
        push(&k->ctrl, 0x80, 0);
        break;
    case 0xD0:
        push(&k->ctrl, outport_value(k), 0);
        break;
    case 0xDD:
        k->outport &= (uint8_t)~OUT_A20;
        break;
    case 0xDF:
        k->outport |= OUT_A20;
        break;
    default:
        break; /* unknown commands are ignored, as the 8042 does */
    }
}

static void data_byte(struct i8042 *k, uint8_t v)
{
    uint8_t cmd = k->pending_cmd;
    k->pending_cmd = 0;
    if (cmd >= 0x60 && cmd <= 0x7F) {
        k->ram[cmd & 0x1F] = v;
        return;
    }
    switch (cmd) {
    case 0xD1:
        write_outport(k, v);
        break;
    case 0xD2: /* as if the keyboard had sent it */
        push(&k->ctrl, v, 0);
        break;
    case 0xD3: /* as if the mouse had sent it: the loopback test */
        push(&k->ctrl, v, I8042_STR_AUXDATA);
        break;
    case 0xD4: /* to the mouse, and there is none */
        push(&k->aux, KBD_RESEND, I8042_STR_AUXDATA | I8042_STR_TIMEOUT);
        break;
    default:
        kbd_byte(k, v);
        break;
    }
}

uint8_t i8042_read(struct i8042 *k, uint16_t port)
{
    switch (port) {
    case I8042_PORT_DATA: {
        uint8_t v = k->ob.data; /* with the buffer empty, the last byte again */
        if (k->obf) {
            k->obf = false;
            refill(k);
        }
        return v;
    }
    case I8042_PORT_STATUS:
        return (uint8_t)((k->obf ? I8042_STR_OBF | k->ob.flags : 0) |
                         (k->ram[0] & I8042_CTR_SYS ? I8042_STR_SYS : 0) |
                         (k->last_was_cmd ? I8042_STR_CMD : 0) | I8042_STR_UNLOCKED);
    case I8042_PORT_SYSCTL_A:
        return k->sysctl_a;
    default:
        return 0xFF;
    }
}

void i8042_write(struct i8042 *k, uint16_t port, uint8_t v)
{
    switch (port) {
    case I8042_PORT_DATA:
        k->last_was_cmd = false;
        data_byte(k, v);
        break;
    case I8042_PORT_CMD:
        k->last_was_cmd = true;
        command(k, v);
        break;
    case I8042_PORT_SYSCTL_A:
        if ((v & SYSCTL_A_RESET) && !(k->sysctl_a & SYSCTL_A_RESET))
            k->reset_request = true;
        k->sysctl_a = v;
        return;
    default:
        return;
    }
    refill(k);
}

static int queue_check(const struct i8042_queue *q)
{
    return q->head < I8042_QUEUE && q->count <= I8042_QUEUE ? 0 : -1;
}

int i8042_check(const struct i8042 *k)
{
    uint8_t ccb = k->ram[0];
    if (queue_check(&k->ctrl) || queue_check(&k->kbd) || queue_check(&k->aux))
        return -1;
    if (k->ob.flags & ~(I8042_STR_AUXDATA | I8042_STR_TIMEOUT))
        return -2;
    if (!k->obf && (k->ctrl.count || (k->kbd.count && !(ccb & I8042_CTR_KBDDIS)) ||
                    (k->aux.count && !(ccb & I8042_CTR_AUXDIS))))
        return -3; /* a deliverable byte is waiting behind an empty output buffer */
    if (k->pending_cmd && !(k->pending_cmd >= 0x60 && k->pending_cmd <= 0x7F) &&
        !(k->pending_cmd >= 0xD1 && k->pending_cmd <= 0xD4))
        return -4;
    if (k->kbd_param_cmd && k->kbd_param_cmd != 0xED && k->kbd_param_cmd != 0xF0 &&
        k->kbd_param_cmd != 0xF3)
        return -5;
    if (k->outport & OUT_LIVE)
        return -6;
    if (k->kbd_set < 1 || k->kbd_set > 3)
        return -7;
    for (unsigned i = 0; i < k->aux.count; i++)
        if (!(k->aux.b[(k->aux.head + i) % I8042_QUEUE].flags & I8042_STR_AUXDATA))
            return -8;
    return 0;
}
