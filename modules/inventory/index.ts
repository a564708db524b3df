// Stock of one product: received in lots at a cost, reserved for orders, released, discontinued.
import { Aggregate, Command, Event, Obj, Outcome, register } from "thalo-node/guest";
export * from "thalo-node/guest/exports";

@data class Line { sku: string = ""; quantity: i64 = 0; }

// Commands.
@data class ReceiveStock { quantity: i64 = 0; unit_cost: f64 = 0; lot: string | null = null; }
@data class ReserveStock { order_id: string = ""; lines: Line[] = []; note: string | null = null; }
@data class ReleaseReservation { order_id: string = ""; }

// Events.
@data class StockReceived { quantity: i64 = 0; unit_cost: f64 = 0; lot: string | null = null; }
@data class StockReserved { order_id: string = ""; quantity: i64 = 0; lines: Line[] = []; }
@data class ReservationReleased { order_id: string = ""; quantity: i64 = 0; }
@data class Discontinued { reason: string | null = null; }

@data class Inventory extends Aggregate {
  on_hand: i64 = 0;
  average_cost: f64 = 0;
  lots: string[] = [];
  reservations: Map<string, i64> = new Map();
  discontinued: bool = false;

  get available(): i64 {
    let reserved: i64 = 0;
    const held = this.reservations.values();
    for (let i = 0; i < held.length; i++) reserved += held[i];
    return this.on_hand - reserved;
  }

  handle(command: Command, out: Outcome): void {
    if (this.discontinued) return out.reject("DISCONTINUED", "the product is discontinued");
    if (command.is("ReceiveStock")) {
      const c = command.decode<ReceiveStock>();
      if (c.quantity <= 0) return out.reject("INVALID_QUANTITY", "quantity must be positive");
      out.emit("StockReceived", new StockReceived(c.quantity, c.unit_cost, c.lot));
    } else if (command.is("ReserveStock")) {
      const c = command.decode<ReserveStock>();
      let quantity: i64 = 0;
      for (let i = 0; i < c.lines.length; i++) quantity += c.lines[i].quantity;
      if (this.reservations.has(c.order_id)) return out.reject("ALREADY_RESERVED", "order " + c.order_id + " already holds stock");
      if (c.lines.length == 0 || quantity <= 0) return out.reject("INVALID_QUANTITY", "an order needs lines with a quantity");
      if (quantity > this.available) {
        const details = new Obj().int("available", this.available).int("requested", quantity);
        return out.reject("OUT_OF_STOCK", "only " + this.available.toString() + " available", details);
      }
      out.emit("StockReserved", new StockReserved(c.order_id, quantity, c.lines));
    } else if (command.is("ReleaseReservation")) {
      const c = command.decode<ReleaseReservation>();
      if (!this.reservations.has(c.order_id)) return out.noEvents(); // releasing twice changes nothing
      out.emit("ReservationReleased", new ReservationReleased(c.order_id, this.reservations.get(c.order_id)));
    } else if (command.is("Discontinue")) {
      out.emit("Discontinued", new Discontinued(command.data.has("reason") ? command.data.str("reason") : null));
    }
  }

  apply(event: Event): void {
    if (event.is("StockReceived")) {
      const e = event.decode<StockReceived>();
      const total = this.average_cost * <f64>this.on_hand + e.unit_cost * <f64>e.quantity;
      this.on_hand += e.quantity;
      this.average_cost = total / <f64>this.on_hand;
      if (e.lot != null) this.lots.push(e.lot!);
    } else if (event.is("StockReserved")) {
      const e = event.decode<StockReserved>();
      this.reservations.set(e.order_id, e.quantity);
    } else if (event.is("ReservationReleased")) {
      this.reservations.delete(event.decode<ReservationReleased>().order_id);
    } else if (event.is("Discontinued")) this.discontinued = true;
  }
}

register(
  "inventory",
  "1.0.0",
  ["ReceiveStock", "ReserveStock", "ReleaseReservation", "Discontinue"],
  ["StockReceived", "StockReserved", "ReservationReleased", "Discontinued"],
  (id: string): Aggregate => new Inventory(),
);
