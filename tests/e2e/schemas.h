// The application schemas behind tests/e2e/maps: what each side's
// application would have created. A SQLite table has the declared table's
// name (fo.Customer is table Customer in fo.db). Every table has an INTEGER
// PRIMARY KEY, as docs/sync.md asks of synced tables, and an index on its
// alternate key, as a real application table has; none has a UNIQUE
// constraint on the key, so a duplicate made by duet is visible as two rows
// instead of being refused.
#ifndef DUET_TESTS_E2E_SCHEMAS_H_
#define DUET_TESTS_E2E_SCHEMAS_H_

#include <string_view>

namespace duet::e2e {

// maps/customers.duet. ce.customergroup's declared `id` is its INTEGER
// PRIMARY KEY; ce.account has an undeclared one, so its refs would use the
// rowid (the same value).
inline constexpr std::string_view kCustomersFo = R"sql(
CREATE TABLE CustGroup (RECID INTEGER PRIMARY KEY, GROUPID TEXT NOT NULL, DESCRIPTION TEXT);
CREATE INDEX CustGroup_key ON CustGroup (GROUPID);
CREATE TABLE Customer (RECID INTEGER PRIMARY KEY, ACCOUNT TEXT NOT NULL, NAME TEXT,
                       GROUPID TEXT, ONHOLD TEXT, PARTYTYPE TEXT NOT NULL, MEMO TEXT);
CREATE INDEX Customer_key ON Customer (ACCOUNT);
)sql";

inline constexpr std::string_view kCustomersCe = R"sql(
CREATE TABLE customergroup (groupid INTEGER PRIMARY KEY, code TEXT NOT NULL, description TEXT);
CREATE INDEX customergroup_key ON customergroup (code);
CREATE TABLE account (accountid INTEGER PRIMARY KEY, accountnumber TEXT NOT NULL, name TEXT,
                      groupref INTEGER, onhold INTEGER, searchname TEXT, memo TEXT,
                      typecode INTEGER);
CREATE INDEX account_key ON account (accountnumber);
)sql";

// maps/conflicts.duet: one table pair per conflict rule.
inline constexpr std::string_view kConflictsFo = R"sql(
CREATE TABLE ConfFo (RECID INTEGER PRIMARY KEY, CODE TEXT NOT NULL, A TEXT, B TEXT);
CREATE TABLE ConfCe (RECID INTEGER PRIMARY KEY, CODE TEXT NOT NULL, A TEXT, B TEXT);
CREATE TABLE ConfNewest (RECID INTEGER PRIMARY KEY, CODE TEXT NOT NULL, A TEXT, B TEXT);
CREATE TABLE ConfManual (RECID INTEGER PRIMARY KEY, CODE TEXT NOT NULL, A TEXT, B TEXT);
)sql";

inline constexpr std::string_view kConflictsCe = R"sql(
CREATE TABLE conf_fo (rid INTEGER PRIMARY KEY, code TEXT NOT NULL, a TEXT, b TEXT);
CREATE TABLE conf_ce (rid INTEGER PRIMARY KEY, code TEXT NOT NULL, a TEXT, b TEXT);
CREATE TABLE conf_newest (rid INTEGER PRIMARY KEY, code TEXT NOT NULL, a TEXT, b TEXT);
CREATE TABLE conf_manual (rid INTEGER PRIMARY KEY, code TEXT NOT NULL, a TEXT, b TEXT);
)sql";

// maps/items.duet.
inline constexpr std::string_view kItemsFo = R"sql(
CREATE TABLE Item (RECID INTEGER PRIMARY KEY, CODE TEXT NOT NULL, NAME TEXT, QTY INTEGER,
                   STATUS TEXT);
CREATE INDEX Item_key ON Item (CODE);
)sql";

inline constexpr std::string_view kItemsCe = R"sql(
CREATE TABLE item (itemid INTEGER PRIMARY KEY, code TEXT NOT NULL, name TEXT, qty INTEGER,
                   status INTEGER);
CREATE INDEX item_key ON item (code);
)sql";

// maps/readings.duet: no CHECK or NOT NULL, so the stored values are
// whatever the applications write.
inline constexpr std::string_view kReadingsFo = R"sql(
CREATE TABLE Reading (RECID INTEGER PRIMARY KEY, CODE TEXT NOT NULL, VAL REAL, GRP TEXT);
)sql";

inline constexpr std::string_view kReadingsCe = R"sql(
CREATE TABLE reading (rid INTEGER PRIMARY KEY, code TEXT NOT NULL, val REAL, grp TEXT);
)sql";

// maps/waits.duet.
inline constexpr std::string_view kWaitsFo = R"sql(
CREATE TABLE Grp (RECID INTEGER PRIMARY KEY, CODE TEXT NOT NULL, NAME TEXT);
CREATE INDEX Grp_key ON Grp (CODE);
CREATE TABLE Member (RECID INTEGER PRIMARY KEY, CODE TEXT NOT NULL, NAME TEXT, GRP TEXT);
CREATE INDEX Member_key ON Member (CODE);
)sql";

inline constexpr std::string_view kWaitsCe = R"sql(
CREATE TABLE grp (grpid INTEGER PRIMARY KEY, code TEXT NOT NULL, name TEXT);
CREATE INDEX grp_key ON grp (code);
CREATE TABLE member (memberid INTEGER PRIMARY KEY, code TEXT NOT NULL, name TEXT, grp INTEGER);
CREATE INDEX member_key ON member (code);
)sql";

// maps/baddata.duet. The ce table is stricter than the map declares: qty
// must not be negative and note must not be null, so SQLite refuses such
// rows (a `rejected` item); name is declared string(10), so a longer fo
// name fails the transform (`string_too_long`).
inline constexpr std::string_view kBadDataFo = R"sql(
CREATE TABLE Product (RECID INTEGER PRIMARY KEY, CODE TEXT NOT NULL, NAME TEXT, QTY INTEGER,
                      NOTE TEXT);
)sql";

inline constexpr std::string_view kBadDataCe = R"sql(
CREATE TABLE product (productid INTEGER PRIMARY KEY, code TEXT NOT NULL, name TEXT,
                      qty INTEGER CHECK (qty >= 0), note TEXT NOT NULL);
)sql";

// maps/deferred.duet. statecode is NOT NULL without a SQLite default: only
// the bundle's `default 0` can fill it.
inline constexpr std::string_view kDeferredFo = R"sql(
CREATE TABLE Vendor (RECID INTEGER PRIMARY KEY, VENDORID TEXT NOT NULL, NAME TEXT,
                     PRIMARYCONTACT TEXT);
CREATE TABLE Contact (RECID INTEGER PRIMARY KEY, CONTACTID TEXT NOT NULL, NAME TEXT,
                      VENDORID TEXT);
)sql";

inline constexpr std::string_view kDeferredCe = R"sql(
CREATE TABLE vendor (vendorid TEXT PRIMARY KEY, code TEXT NOT NULL, name TEXT,
                     primarycontact TEXT, statecode INTEGER NOT NULL);
CREATE TABLE contact (contactid TEXT PRIMARY KEY, contactnumber TEXT NOT NULL, fullname TEXT,
                      vendor TEXT);
)sql";

// maps/rates.duet. ce's currencies, rate types and pairs are the Dataverse
// application's reference data; each declared `id` is the INTEGER PRIMARY
// KEY, so a ref holds it.
inline constexpr std::string_view kRatesFo = R"sql(
CREATE TABLE ExchangeRate (RECID INTEGER PRIMARY KEY, RATETYPENAME TEXT NOT NULL,
                           FROMCURRENCY TEXT NOT NULL, TOCURRENCY TEXT NOT NULL,
                           STARTDATE TEXT NOT NULL, RATE TEXT);
)sql";

inline constexpr std::string_view kRatesCe = R"sql(
CREATE TABLE transactioncurrency (transactioncurrencyid INTEGER PRIMARY KEY,
                                  isocurrencycode TEXT NOT NULL);
CREATE TABLE ratetype (ratetypeid INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE ratepair (ratepairid INTEGER PRIMARY KEY, ratetype INTEGER NOT NULL,
                       fromcurrency INTEGER NOT NULL, tocurrency INTEGER NOT NULL);
CREATE INDEX ratepair_key ON ratepair (ratetype, fromcurrency, tocurrency);
CREATE TABLE rate (rateid INTEGER PRIMARY KEY, pair INTEGER, validfrom TEXT NOT NULL,
                   rate TEXT);
INSERT INTO transactioncurrency VALUES (1, 'EUR'), (2, 'USD'), (3, 'GBP');
INSERT INTO ratetype VALUES (1, 'Default'), (2, 'Budget');
-- Pairs that differ in one key column each, so a match on fewer than all
-- three would find the wrong one.
INSERT INTO ratepair VALUES (1, 1, 1, 2), (2, 2, 1, 2), (3, 1, 2, 1);
)sql";

}  // namespace duet::e2e

#endif  // DUET_TESTS_E2E_SCHEMAS_H_
