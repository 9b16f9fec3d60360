-- Dataverse (Customer Engagement): what the CRM holds before duet starts, run
-- with the sqlite3 client into a database made by `duetc schema --system ce`
-- after fo_data.sql has filled fo.db (attached here as `fo`).
--
-- The companies and the base currency exist already, as do units and sales
-- tax groups (reference data no standard map syncs), and sales has been
-- keeping 300 of F&O's customers as accounts by hand: same company and
-- account number, but their own phone numbers and a stale name. Initial sync
-- must link those by alternate key instead of duplicating them.
BEGIN;

INSERT INTO cdm_company (cdm_companycode, cdm_name) VALUES
  ('usmf', 'Contoso USA'), ('demf', 'Contoso Germany'), ('gbsi', 'Contoso UK');

INSERT INTO transactioncurrency (isocurrencycode, currencyname, currencysymbol, exchangerate)
VALUES ('USD', 'US Dollar', '$', '1.0000000000');

INSERT INTO uom (msdyn_symbol) VALUES ('ea'), ('pcs'), ('box'), ('kg'), ('h');

INSERT INTO msdyn_taxgroup (msdyn_company, msdyn_name)
SELECT cdm_companyid, g.name FROM cdm_company,
       (SELECT 'TAXABLE' AS name UNION ALL SELECT 'EXEMPT') g;

-- Every tenth F&O organization customer, as sales typed it in.
INSERT INTO account (msdyn_company, accountnumber, name, customertypecode, telephone1,
                     emailaddress1, address1_city)
SELECT co.cdm_companyid, c.CUSTOMERACCOUNT, upper(c.ORGANIZATIONNAME) || ' (from CRM)', 3,
       '+1 206 555 ' || printf('%04d', c.RECID), c.PRIMARYCONTACTEMAIL, c.DELIVERYADDRESSCITY
FROM fo.CustCustomerV3Entity c
JOIN cdm_company co ON co.cdm_companycode = c.DATAAREAID
WHERE c.PARTYTYPE = 'Organization' AND c.RECID % 10 = 1
LIMIT 300;

COMMIT;
