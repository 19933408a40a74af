/* sim_text.c - the vocabulary tables. Values look like real WMS data so that the
 * pipeline's mapping code meets realistic strings (spaces, hyphens, mixed case). */
#include "sim_text.h"

#include <stddef.h>

#include "sim_store.h"

const sim_city sim_cities[] = {
    {"Reno", "RNO", "9 Dock Rd", "NV", "89501", "US"},
    {"Columbus", "CMH", "4500 Logistics Pkwy", "OH", "43217", "US"},
    {"Allentown", "ABE", "77 Commerce Way", "PA", "18106", "US"},
    {"Dallas", "DFW", "1200 Freight Ln", "TX", "75261", "US"},
    {"Ontario", "ONT", "3350 E Jurupa St", "CA", "91761", "US"},
    {"Atlanta", "ATL", "5 Peachtree Industrial Blvd", "GA", "30336", "US"},
    {"Toronto", "YYZ", "60 Bramalea Rd", "ON", "L6T 2W8", "CA"},
    {"Venlo", "VNL", "Celsiusweg 12", NULL, "5928 PR", "NL"},
};
const int sim_ncities = SIM_TEXT_COUNT(sim_cities);

const sim_carrier sim_carriers[] = {
    {"ups", "UPS", "UPSN", "1Z999AA1", "https://www.ups.com/track?tracknum=%s"},
    {"fedex", "FedEx", "FDEG", "7946", "https://www.fedex.com/fedextrack/?trknbr=%s"},
    {"usps", "USPS", NULL, "9400", "https://tools.usps.com/go/TrackConfirmAction?tLabels=%s"},
    {"dhl", "DHL Express", "DHLC", "JD01", "https://www.dhl.com/track?tracking-id=%s"},
};
const int sim_ncarriers = SIM_TEXT_COUNT(sim_carriers);

const char *const sim_services[] = {"Ground", "2 Day", "Next Day Air", "Economy"};
const char *const sim_service_levels[] = {"ground", "2day", "overnight", "economy"};
const int sim_nservices = SIM_TEXT_COUNT(sim_services);

const sim_named sim_channels[] = {
    {"ch_shopify", "Shopify"},
    {"ch_amazon", "Amazon"},
    {"ch_wholesale", "Wholesale EDI"},
    {"ch_manual", NULL},
};
const int sim_nchannels = SIM_TEXT_COUNT(sim_channels);

const sim_named sim_suppliers[] = {
    {"sup_acme", "Acme Textiles"},
    {"sup_north", "Northwind Traders"},
    {"sup_pacific", "Pacific Rim Sourcing"},
    {"sup_unnamed", NULL},
};
const int sim_nsuppliers = SIM_TEXT_COUNT(sim_suppliers);

const char *const sim_first_names[] = {"Ann",  "Bo",   "Carla", "Deepak", "Elif", "Femi",  "Greta",
                                       "Hiro", "Ines", "Jon",   "Kemal",  "Lena", "Mateo", "Nia"};
const int sim_nfirst = SIM_TEXT_COUNT(sim_first_names);
const char *const sim_last_names[] = {"Lee",   "Okafor",   "Schmidt", "Garcia", "Nguyen", "O'Brien",
                                      "Rossi", "Kowalski", "Tanaka",  "Dubois", "Haddad", "Smith"};
const int sim_nlast = SIM_TEXT_COUNT(sim_last_names);
const char *const sim_streets[] = {"Main St", "Oak Ave",     "Maple Dr",    "Cedar Ln",
                                   "Elm St",  "Lakeview Rd", "Sunset Blvd", "2nd Ave"};
const int sim_nstreets = SIM_TEXT_COUNT(sim_streets);

const char *const sim_product_nouns[] = {"T-Shirt",  "Hoodie",   "Mug",    "Water Bottle",
                                         "Tote Bag", "Notebook", "Candle", "Phone Case",
                                         "Cap",      "Socks"};
const int sim_nnouns = SIM_TEXT_COUNT(sim_product_nouns);
const char *const sim_product_adjs[] = {"Classic", "Organic",  "Vintage", "Deluxe",
                                        "Eco",     "Midnight", "Coastal", "Everyday"};
const int sim_nadjs = SIM_TEXT_COUNT(sim_product_adjs);

const char *const sim_wc_names[] = {"Bloom & Co",     "Peak Outfitters", "Lumen Home",
                                    "Tidal Goods",    "Atlas Supply",    "Nova Pets",
                                    "Kettle Kitchen", "Urban Roots"};
const int sim_nwc_names = SIM_TEXT_COUNT(sim_wc_names);

const char *const sim_location_types[] = {"bin", "shelf", "pallet", "floor"};
const int sim_nlocation_types = SIM_TEXT_COUNT(sim_location_types);

const char *const sim_return_reasons[] = {"too small", "damaged in transit", "changed mind",
                                          "wrong item"};
const int sim_nreturn_reasons = SIM_TEXT_COUNT(sim_return_reasons);

const char *const sim_charge_types[] = {"pick_and_pack", "shipping", "storage", "receiving",
                                        "return_processing"};
const int sim_ncharge_types = SIM_TEXT_COUNT(sim_charge_types);

const char *const sim_order_types[] = {"d2c", "b2b", "dropship", "transfer"};
const int sim_norder_types = SIM_TEXT_COUNT(sim_order_types);

const char *const sim_order_status_names[] = {
    "open",      "confirmed",   "processing", "picked",    "packed", "partially_fulfilled",
    "fulfilled", "backordered", "exception",  "cancelled", "other"};
const char *const sim_order_raw_status[] = {
    "New",     "Released",  "In Progress",       "Picked",   "Packed",          "Partially Shipped",
    "Shipped", "Backorder", "On Hold - Address", "Canceled", "Awaiting Payment"};
const char *const sim_flow_status_names[] = {"open",     "in-transit", "receiving",
                                             "received", "cancelled",  "other"};
const char *const sim_return_raw_status[] = {"Awaiting Return", "In Transit", "Processing",
                                             "Completed",       "Cancelled",  "Needs Review"};
const char *const sim_asn_raw_status[] = {"Created", "Shipped", "Partially Received",
                                          "Closed",  "Void",    "Unknown"};
const char *const sim_shipment_status_names[] = {"open", "shipped", "cancelled"};

const sim_ledger_text sim_ledger_events[SIM_LE_COUNT] = {
    [SIM_LE_OPENING] = {"adjustment", "opening_balance", "stock when the ledger began", NULL, 0},
    [SIM_LE_SHIPMENT] = {"order_shipment", "shipment_pick", NULL, "order", SIM_RES_ORDERS},
    [SIM_LE_RECEIPT] = {"inbound_receipt", "receipt_into_system", NULL, "inbound_shipment",
                        SIM_RES_INBOUND},
    [SIM_LE_RETURN] = {"return_receipt", "return_restock", NULL, "return", SIM_RES_RETURNS},
    [SIM_LE_FOUND] = {"adjustment", "inventory_found", "found during putaway", NULL, 0},
    [SIM_LE_COUNT_FIX] = {"adjustment", "cycle_count", "cycle count correction", NULL, 0},
};

const char *const sim_labor_types[] = {"pick", "pack", "put_away", "transfer", "receive"};
const int sim_nlabor_types = SIM_TEXT_COUNT(sim_labor_types);
const sim_labor_obj_text sim_labor_objs[SIM_LO_COUNT] = {
    [SIM_LO_ORDER] = {"order", SIM_RES_ORDERS},
    [SIM_LO_INBOUND] = {"inbound_shipment", SIM_RES_INBOUND},
    [SIM_LO_RETURN] = {"return", SIM_RES_RETURNS},
    [SIM_LO_INVENTORY] = {"inventory", SIM_RES_INVENTORY},
};
/* Some WMSs know only a login: a null first or last name (as the schema allows). */
const char *const sim_user_first[] = {"Dana", "Luis",  "Mei", NULL,   "Ada", "Kofi",
                                      "Ines", "Piotr", "Sam", "Noor", NULL,  "Yuki"};
const char *const sim_user_last[] = {"Reyes",  "Okafor", NULL,   "Novak", "Lind", "Haddad",
                                     "Moreau", NULL,     "Kerr", "Sato",  NULL,   "Berg"};
const int sim_nuser_names = SIM_TEXT_COUNT(sim_user_first);
