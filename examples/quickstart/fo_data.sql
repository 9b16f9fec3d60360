-- Finance and Operations: a generated data set for the standard maps, run with
-- the sqlite3 client into a database made by `duetc schema --system fo`.
-- Three companies, their reference data, 3,000 customers (organizations and
-- persons), 600 vendors with a contact each, 1,000 products released to two
-- companies, 300 workers with their employment. Deterministic: the same
-- rows every time.
BEGIN;

-- Word lists the generated rows pick from (json arrays, indexed from 0).
CREATE TEMP TABLE words (name TEXT PRIMARY KEY, list TEXT NOT NULL);
INSERT INTO words VALUES
  ('first', '["Adele","Ahmed","Alicia","Amir","Beatriz","Bruno","Carmen","Chen","Daniel","Dara","Elena","Emil","Farah","Felix","Grace","Hana","Ivan","Jodi","Julia","Kenji","Lena","Lucas","Maya","Mateo","Nadia","Noah","Olga","Omar","Priya","Ravi","Sofia","Tariq","Uma","Victor","Wei","Yara","Zoe"]'),
  ('last', '["Anderson","Barnett","Christiansen","Dubois","Eriksen","Fischer","Garcia","Hoffmann","Ibrahim","Jensen","Kumar","Larsen","Martin","Nakamura","Okafor","Petrov","Quinn","Rossi","Schmidt","Tanaka","Umarov","Vasquez","Weber","Xu","Yilmaz","Zhang"]'),
  ('org1', '["Alpine","Blue Yonder","Cedar","Delta","Evergreen","Fourth Coffee","Granite","Harbor","Ironwood","Juniper","Keystone","Lakeshore","Meridian","Northwind","Orchid","Pinnacle","Quarry","Riverside","Summit","Tailspin","Union","Vertex","Wingtip","Yellowstone"]'),
  ('org2', '["Traders","Supplies","Manufacturing","Retail","Logistics","Foods","Electronics","Outfitters","Industries","Partners","Wholesale","Systems"]'),
  ('street', '["Main St","Oak Ave","Pine Rd","Maple Dr","Cedar Ln","Lake View","Hill St","Park Ave","River Rd","Station Rd"]'),
  ('product', '["Speaker","Amplifier","Subwoofer","Receiver","Turntable","Headphones","Microphone","Cable","Projector","Screen","Remote","Mixer"]'),
  ('grade', '["Mid-range","High-end","Compact","Wireless","Studio","Outdoor","Portable","Premium"]');

CREATE TEMP VIEW pick AS SELECT name, list, json_array_length(list) AS size FROM words;

-- Where each company's customers live: city, state, zip, country (ISO).
CREATE TEMP TABLE places (company TEXT, i INTEGER, city TEXT, state TEXT, zip TEXT, country TEXT);
INSERT INTO places VALUES
  ('usmf', 0, 'Seattle', 'WA', '98101', 'USA'), ('usmf', 1, 'Redmond', 'WA', '98052', 'USA'),
  ('usmf', 2, 'Portland', 'OR', '97201', 'USA'), ('usmf', 3, 'Chicago', 'IL', '60601', 'USA'),
  ('usmf', 4, 'Austin', 'TX', '73301', 'USA'), ('usmf', 5, 'Denver', 'CO', '80202', 'USA'),
  ('demf', 0, 'Berlin', 'BE', '10115', 'DEU'), ('demf', 1, 'Hamburg', 'HH', '20095', 'DEU'),
  ('demf', 2, 'Munich', 'BY', '80331', 'DEU'), ('demf', 3, 'Cologne', 'NW', '50667', 'DEU'),
  ('demf', 4, 'Frankfurt', 'HE', '60311', 'DEU'), ('demf', 5, 'Stuttgart', 'BW', '70173', 'DEU'),
  ('gbsi', 0, 'London', 'LDN', 'EC1A 1BB', 'GBR'), ('gbsi', 1, 'Manchester', 'MAN', 'M1 1AE', 'GBR'),
  ('gbsi', 2, 'Leeds', 'LDS', 'LS1 1UR', 'GBR'), ('gbsi', 3, 'Bristol', 'BST', 'BS1 4DJ', 'GBR'),
  ('gbsi', 4, 'Glasgow', 'GLG', 'G1 1XQ', 'GBR'), ('gbsi', 5, 'Cardiff', 'CRF', 'CF10 1EP', 'GBR');

CREATE TEMP TABLE companies (i INTEGER, id TEXT, name TEXT, prefix TEXT, currency TEXT,
                             language TEXT);
INSERT INTO companies VALUES
  (0, 'usmf', 'Contoso Entertainment System USA', 'US', 'USD', 'en-us'),
  (1, 'demf', 'Contoso Entertainment System Germany', 'DE', 'EUR', 'de'),
  (2, 'gbsi', 'Contoso Entertainment System UK', 'GB', 'GBP', 'en-gb');

CREATE TEMP TABLE seq (n INTEGER PRIMARY KEY);
WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 3000)
INSERT INTO seq SELECT n FROM s;

CREATE TEMP VIEW w AS
  SELECT (SELECT list FROM words WHERE name = 'first') AS first,
         (SELECT list FROM words WHERE name = 'last') AS last,
         (SELECT list FROM words WHERE name = 'org1') AS org1,
         (SELECT list FROM words WHERE name = 'org2') AS org2,
         (SELECT list FROM words WHERE name = 'street') AS street,
         (SELECT list FROM words WHERE name = 'product') AS product,
         (SELECT list FROM words WHERE name = 'grade') AS grade;

-- ---- reference data ----------------------------------------------------------

INSERT INTO OMLegalEntity (LEGALENTITYID, NAME) SELECT id, name FROM companies;

INSERT INTO CurrencyEntity (CURRENCYCODE, NAME, SYMBOL) VALUES
  ('USD', 'US Dollar', '$'), ('EUR', 'Euro', '€'), ('GBP', 'Pound Sterling', '£'),
  ('CAD', 'Canadian Dollar', 'CA$'), ('JPY', 'Japanese Yen', '¥'), ('DKK', 'Danish Krone', 'kr'),
  ('999', 'Placeholder currency (filtered out by the map)', '?');

INSERT INTO PaymentTermEntity (DATAAREAID, NAME, DESCRIPTION, NUMBEROFMONTHS, NUMBEROFDAYS,
                               CUTOFFDAYOFMONTH, ISCASHPAYMENT, ISCERTIFIEDCOMPANYCHECK,
                               ISDEFAULTPAYMENTTERM, PAYMENTMETHODTYPE)
SELECT c.id, t.name, t.description, t.months, t.days, 0, t.cash, 'no', t.dflt, t.method
FROM companies c,
     (SELECT 'Net10' AS name, 'Net 10 days' AS description, 0 AS months, 10 AS days,
             'no' AS cash, 'no' AS dflt, 'net' AS method
      UNION ALL SELECT 'Net30', 'Net 30 days', 0, 30, 'no', 'yes', 'net'
      UNION ALL SELECT 'Net45', 'Net 45 days', 0, 45, 'no', 'no', 'net'
      UNION ALL SELECT 'M15', 'Current month + 15 days', 0, 15, 'no', 'no', 'currentMth'
      UNION ALL SELECT 'COD', 'Cash on delivery', 0, 0, 'yes', 'no', 'cod') t;

INSERT INTO CustCustomerGroupEntity (DATAAREAID, CUSTOMERGROUPID, DESCRIPTION,
                                     ISSALESTAXINCLUDEDINPRICE, PAYMENTTERMID)
SELECT c.id, g.id, g.description, g.taxincl, g.terms
FROM companies c,
     (SELECT '10' AS id, 'Wholesale customers' AS description, 'no' AS taxincl, 'Net30' AS terms
      UNION ALL SELECT '20', 'Major customers', 'no', 'Net45'
      UNION ALL SELECT '30', 'Retail customers', 'yes', 'Net10'
      UNION ALL SELECT '80', 'Other customers', 'no', 'Net30'
      UNION ALL SELECT '90', 'Internet customers', 'yes', 'COD') g;

INSERT INTO VendVendorGroupEntity (DATAAREAID, VENDORGROUPID, DESCRIPTION, DEFAULTPAYMENTTERMNAME)
SELECT c.id, g.id, g.description, g.terms
FROM companies c,
     (SELECT '10' AS id, 'Parts vendors' AS description, 'Net30' AS terms
      UNION ALL SELECT '20', 'Service vendors', 'Net45'
      UNION ALL SELECT '30', 'Office supplies', 'Net10'
      UNION ALL SELECT '40', 'Logistics partners', 'Net30') g;

INSERT INTO DimensionAttributeEntity (DIMENSIONNAME, REPORTCOLUMNNAME, COPYVALUESONCREATE,
                                      GIVEDERIVEDDIMENSIONSPRECEDENCE, UseValuesFrom)
VALUES ('BusinessUnit', 'BusinessUnit', 'no', 'no', 'Operating units'),
       ('CostCenter', 'CostCenter', 'no', 'yes', 'Operating units'),
       ('Department', 'Department', 'no', 'no', 'Operating units'),
       ('ItemGroup', 'ItemGroup', 'yes', 'no', 'Item groups'),
       ('Project', 'Project', 'yes', 'no', 'Projects');

INSERT INTO DimensionIntegrationFormatEntity (DIMENSIONFORMATTYPE, DIMENSIONFORMATNAME,
                                              FINANCIALDIMENSIONFORMAT, ISACTIVE)
VALUES ('dataEntityDefaultDimensionFormat', 'Default dimension format',
        'BusinessUnit-CostCenter-Department', 'yes'),
       ('dataEntityLedgerDimensionFormat', 'Ledger dimension format',
        'MainAccount-BusinessUnit-CostCenter', 'yes');

-- ---- customers: organizations (accounts) and persons (contacts) -------------------
-- Customer n belongs to company n % 3; every eighth is a person.

INSERT INTO CustCustomerV3Entity (
  DATAAREAID, CUSTOMERACCOUNT, PARTYTYPE, PARTYNUMBER, CUSTOMERGROUPID, LANGUAGEID,
  SALESCURRENCYCODE, ORGANIZATIONNAME, ORGANIZATIONNUMBEROFEMPLOYEES, PERSONFIRSTNAME,
  PERSONLASTNAME, PERSONGENDER, CREDITLIMIT, CREDITLIMITISMANDATORY, ONHOLDSTATUS,
  PAYMENTTERMS, INVOICEADDRESS, ISONETIMECUSTOMER,
  DELIVERYADDRESSSTREET, DELIVERYADDRESSCITY, DELIVERYADDRESSSTATE, DELIVERYADDRESSZIPCODE,
  DELIVERYADDRESSCOUNTRYREGIONISOCODE, INVOICEADDRESSSTREET, INVOICEADDRESSCITY,
  INVOICEADDRESSSTATE, INVOICEADDRESSZIPCODE, INVOICEADDRESSCOUNTRYREGIONISOCODE,
  ADDRESSSTREET, ADDRESSCITY, ADDRESSSTATE, ADDRESSZIPCODE, ADDRESSCOUNTRYREGIONISOCODE,
  PRIMARYCONTACTEMAIL, PRIMARYCONTACTPHONE, PRIMARYCONTACTURL)
SELECT
  c.id,
  c.prefix || CASE WHEN s.n % 8 = 0 THEN '-P' ELSE '-' END || printf('%05d', s.n),
  CASE WHEN s.n % 8 = 0 THEN 'Person' ELSE 'Organization' END,
  printf('%09d', s.n),
  json_extract('["10","20","30","80","90"]', '$[' || (s.n % 5) || ']'),
  c.language, c.currency,
  CASE WHEN s.n % 8 = 0 THEN NULL
       ELSE json_extract(w.org1, '$[' || (s.n % 24) || ']') || ' ' ||
            json_extract(w.org2, '$[' || (s.n / 24 % 12) || ']') END,
  CASE WHEN s.n % 8 = 0 THEN NULL ELSE 5 + (s.n * 37) % 2000 END,
  CASE WHEN s.n % 8 = 0 THEN json_extract(w.first, '$[' || (s.n % 37) || ']') END,
  CASE WHEN s.n % 8 = 0 THEN json_extract(w.last, '$[' || (s.n / 8 % 26) || ']') END,
  CASE WHEN s.n % 8 = 0 THEN json_extract('["male","female"]', '$[' || (s.n / 8 % 2) || ']') END,
  printf('%d.000000', 5000 * (1 + s.n % 20)), 'no',
  json_extract('["no","no","no","invoice","no","all"]', '$[' || (s.n % 6) || ']'),
  json_extract('["Net10","Net30","Net45","M15","COD"]', '$[' || (s.n % 5) || ']'),
  'invoiceAccount', 'no',
  (100 + s.n % 900) || ' ' || json_extract(w.street, '$[' || (s.n % 10) || ']'),
  p.city, p.state, p.zip, p.country,
  (100 + s.n % 900) || ' ' || json_extract(w.street, '$[' || (s.n % 10) || ']'),
  p.city, p.state, p.zip, p.country,
  CASE WHEN s.n % 8 = 0 THEN (100 + s.n % 900) || ' ' || json_extract(w.street, '$[' || (s.n % 10) || ']') END,
  CASE WHEN s.n % 8 = 0 THEN p.city END,
  CASE WHEN s.n % 8 = 0 THEN p.state END,
  CASE WHEN s.n % 8 = 0 THEN p.zip END,
  CASE WHEN s.n % 8 = 0 THEN p.country END,
  'info' || s.n || '@example.com',
  '+1 555 ' || printf('%04d', s.n),
  CASE WHEN s.n % 8 = 0 THEN NULL ELSE 'https://www.example.com/c' || s.n END
FROM seq s CROSS JOIN w
JOIN companies c ON c.i = s.n % 3
JOIN places p ON p.company = c.id AND p.i = s.n / 3 % 6
WHERE s.n <= 3000;

-- ---- vendors, one contact person each ---------------------------------------------

INSERT INTO VendVendorV2Entity (
  DATAAREAID, VENDORACCOUNTNUMBER, VENDORGROUPID, VENDORPARTYTYPE, VENDORPARTYNUMBER,
  VENDORORGANIZATIONNAME, LANGUAGEID, CURRENCYCODE, DEFAULTPAYMENTTERMSNAME, CREDITLIMIT,
  ONHOLDSTATUS, ADDRESSSTREET, ADDRESSCITY, ADDRESSSTATEID, ADDRESSZIPCODE,
  ADDRESSCOUNTRYREGIONISOCODE, PRIMARYEMAILADDRESS, PRIMARYPHONENUMBER)
SELECT
  c.id, 'V-' || c.prefix || '-' || printf('%04d', s.n),
  json_extract('["10","20","30","40"]', '$[' || (s.n % 4) || ']'),
  'organization', printf('V%08d', s.n),
  json_extract(w.org1, '$[' || ((s.n * 7) % 24) || ']') || ' ' ||
      json_extract(w.org2, '$[' || (s.n % 12) || ']'),
  c.language, c.currency,
  json_extract('["Net30","Net45","Net10"]', '$[' || (s.n % 3) || ']'),
  printf('%d.000000', 10000 * (1 + s.n % 10)), 'no',
  (10 + s.n % 90) || ' ' || json_extract(w.street, '$[' || (s.n % 10) || ']'),
  p.city, p.state, p.zip, p.country,
  'sales' || s.n || '@vendor.example.com', '+1 555 7' || printf('%03d', s.n % 1000)
FROM seq s CROSS JOIN w
JOIN companies c ON c.i = s.n % 3
JOIN places p ON p.company = c.id AND p.i = s.n / 3 % 6
WHERE s.n <= 600;

INSERT INTO smmContactPersonCDSV2Entity (
  DATAAREAID, CONTACTPERSONID, CONTACTPERSONPARTYNUMBER, ASSOCIATEDCONTACTTYPE,
  ASSOCIATEDCONTACTNUMBER, FIRSTNAME, LASTNAME, EMPLOYMENTPROFESSION, GENDER,
  ISRECEIVINGDIRECTMAIL, PRIMARYEMAILADDRESS, PRIMARYPHONENUMBER)
SELECT
  c.id, 'VC-' || c.prefix || '-' || printf('%04d', s.n), printf('C%08d', s.n), 'Vendor',
  'V-' || c.prefix || '-' || printf('%04d', s.n),
  json_extract(w.first, '$[' || ((s.n * 5) % 37) || ']'),
  json_extract(w.last, '$[' || ((s.n * 3) % 26) || ']'),
  json_extract('["Account manager","Sales representative","Buyer","Controller"]', '$[' || (s.n % 4) || ']'),
  json_extract('["female","male"]', '$[' || (s.n % 2) || ']'), 'yes',
  'contact' || s.n || '@vendor.example.com', '+1 555 8' || printf('%03d', s.n % 1000)
FROM seq s CROSS JOIN w
JOIN companies c ON c.i = s.n % 3
WHERE s.n <= 600;

-- ---- products: 1,000 products, released to usmf and demf ------------------------

INSERT INTO EcoResEveryProductEntity (PRODUCTNUMBER, PRODUCTNAME)
SELECT printf('D%04d', s.n),
       json_extract(w.grade, '$[' || (s.n % 8) || ']') || ' ' ||
           json_extract(w.product, '$[' || (s.n / 8 % 12) || ']') || ' ' || (s.n % 97)
FROM seq s CROSS JOIN w WHERE s.n <= 1000;

INSERT INTO EcoResReleasedDistinctProductCDSEntity (
  PRODUCTNUMBER, ITEMNUMBER, PRODUCTNAME, PRODUCTDESCRIPTION, PRODUCTTYPE, CURRENCYCODE,
  SALESUNITSYMBOL, SALESUNITDECIMALPRECISION, SALESPRICE, UNITCOST, ISCATCHWEIGHTPRODUCT,
  ISSTOCKEDPRODUCT)
SELECT e.PRODUCTNUMBER, e.PRODUCTNUMBER, e.PRODUCTNAME, 'Contoso ' || e.PRODUCTNAME,
       CASE WHEN s.n % 10 = 0 THEN 'service' ELSE 'item' END, 'USD', 'ea', 0,
       printf('%d.990000', 20 + s.n % 500), printf('%d.500000', 10 + s.n % 250), 'no',
       CASE WHEN s.n % 10 = 0 THEN 'no' ELSE 'yes' END
FROM seq s JOIN EcoResEveryProductEntity e ON e.PRODUCTNUMBER = printf('D%04d', s.n);

INSERT INTO EcoResReleasedProductV2Entity (
  DATAAREAID, ITEMNUMBER, PRODUCTNUMBER, PRODUCTTYPE, INVENTORYUNITSYMBOL, SALESUNITSYMBOL,
  PURCHASEUNITSYMBOL, CARRYINGCOSTABCCODE, MARGINABCCODE, ISCATCHWEIGHTPRODUCT)
SELECT c.id, d.ITEMNUMBER, d.PRODUCTNUMBER, d.PRODUCTTYPE, 'ea', 'ea', 'box',
       json_extract('["a","b","c","none"]', '$[' || (d.RECID % 4) || ']'),
       json_extract('["a","b","c"]', '$[' || (d.RECID % 3) || ']'), 'no'
FROM EcoResReleasedDistinctProductCDSEntity d JOIN companies c ON c.id IN ('usmf', 'demf');

-- ---- workers and their employment -------------------------------------------------

INSERT INTO HcmWorkerEntity (PERSONNELNUMBER, FIRSTNAME, LASTNAME, NAME, WORKERTYPE,
                             WORKERSTATUS, GENDER, BIRTHDATE, PRIMARYCONTACTEMAIL,
                             PRIMARYCONTACTPHONE)
SELECT printf('%06d', s.n), f.v, l.v, f.v || ' ' || l.v,
       CASE WHEN s.n % 10 = 0 THEN 'contractor' ELSE 'employee' END,
       CASE WHEN s.n % 25 = 0 THEN 'terminated' ELSE 'employed' END,
       json_extract('["female","male","nonSpecific","none"]', '$[' || (s.n % 4) || ']'),
       date('1960-01-01', '+' || (s.n * 53 % 14000) || ' days'),
       lower(f.v) || '.' || lower(l.v) || s.n || '@contoso.com',
       '+1 425 555 ' || printf('%04d', s.n)
FROM seq s CROSS JOIN w
JOIN (SELECT n, json_extract((SELECT first FROM w), '$[' || ((n * 11) % 37) || ']') AS v FROM seq) f
  ON f.n = s.n
JOIN (SELECT n, json_extract((SELECT last FROM w), '$[' || ((n * 7) % 26) || ']') AS v FROM seq) l
  ON l.n = s.n
WHERE s.n <= 300;

INSERT INTO HcmEmploymentDetailEntity (PERSONNELNUMBER, LEGALENTITYID, EMPLOYMENTSTARTDATE,
                                       EMPLOYMENTENDDATE, WORKERTYPE, EMPLOYERNOTICEAMOUNT,
                                       EMPLOYERUNITOFNOTICE, WORKERNOTICEAMOUNT,
                                       WORKERUNITOFNOTICE, VALIDFROM, VALIDTO)
SELECT wk.PERSONNELNUMBER, c.id, date('2010-01-01', '+' || (wk.RECID * 17 % 5000) || ' days'),
       CASE WHEN wk.WORKERSTATUS = 'terminated' THEN '2025-06-30' END,
       wk.WORKERTYPE, 1 + wk.RECID % 3, 'month', 1 + wk.RECID % 2, 'month',
       date('2010-01-01', '+' || (wk.RECID * 17 % 5000) || ' days'), '2154-12-31'
FROM HcmWorkerEntity wk JOIN companies c ON c.i = wk.RECID % 3;

COMMIT;
