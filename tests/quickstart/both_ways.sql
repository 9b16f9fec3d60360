-- After the initial sync of the quickstart data set: rows created in
-- Dataverse for every two-way standard map, and edits on both sides for
-- every map. Run with the sqlite3 client on ce.db with fo.db attached as
-- `fo`, in one transaction over both. Each created row carries the key
-- stdlib_both_ways_test.sh looks for on the F&O side.
BEGIN;

-- ---- created in Dataverse ------------------------------------------------------

INSERT INTO transactioncurrency (isocurrencycode, currencyname, currencysymbol, exchangerate)
VALUES ('CHF', 'Swiss Franc', 'CHF', '1.0000000000');

INSERT INTO msdyn_dimensionattribute (msdyn_dimensionname, msdyn_reportcolumnname)
VALUES ('Region', 'Region');

INSERT INTO msdyn_financialdimensionformat (msdyn_dimensionformattype, msdyn_dimensionformatname,
                                            msdyn_financialdimensionformat, msdyn_isactive)
VALUES (192350002, 'Budget dimension format', 'MainAccount-Region', 1);

INSERT INTO msdyn_paymentterm (msdyn_company, msdyn_name, msdyn_description, msdyn_days)
SELECT cdm_companyid, 'Net60', 'Net 60 days', 60 FROM cdm_company;

INSERT INTO msdyn_customergroup (msdyn_company, msdyn_groupid, msdyn_description,
                                 msdyn_paymenttermid)
SELECT c.cdm_companyid, '70', 'Key accounts', t.msdyn_paymenttermid
FROM cdm_company c JOIN msdyn_paymentterm t
  ON t.msdyn_company = c.cdm_companyid AND t.msdyn_name = 'Net60';

INSERT INTO msdyn_vendorgroup (msdyn_company, msdyn_vendorgroup, msdyn_description)
SELECT cdm_companyid, '50', 'Consultants' FROM cdm_company;

INSERT INTO msdyn_vendor (msdyn_company, msdyn_vendoraccountnumber, msdyn_vendorgroupid, msdyn_name,
                          msdyn_isperson)
SELECT c.cdm_companyid, 'V-CE-0001', g.msdyn_vendorgroupid, 'Fabrikam Consulting', 0
FROM cdm_company c JOIN msdyn_vendorgroup g
  ON g.msdyn_company = c.cdm_companyid AND g.msdyn_vendorgroup = '50'
WHERE c.cdm_companycode = 'usmf';

INSERT INTO contact (msdyn_company, msdyn_contactpersonid, firstname, lastname, msdyn_sellable,
                     msdyn_contactforvendor, msdyn_vendorcontactid, emailaddress1)
SELECT c.cdm_companyid, 'VC-CE-0001', 'Nadia', 'Okafor', 0, 1, v.msdyn_vendorid,
       'nadia@fabrikam.example'
FROM cdm_company c JOIN msdyn_vendor v
  ON v.msdyn_company = c.cdm_companyid AND v.msdyn_vendoraccountnumber = 'V-CE-0001';

INSERT INTO contact (msdyn_company, msdyn_contactpersonid, firstname, lastname, msdyn_sellable,
                     msdyn_customergroupid, gendercode, telephone1)
SELECT c.cdm_companyid, 'US-P09001', 'Ravi', 'Kumar', 1, g.msdyn_customergroupid, 1,
       '+1 206 555 0177'
FROM cdm_company c JOIN msdyn_customergroup g
  ON g.msdyn_company = c.cdm_companyid AND g.msdyn_groupid = '70'
WHERE c.cdm_companycode = 'usmf';

INSERT INTO account (msdyn_company, accountnumber, name, customertypecode, msdyn_customergroupid,
                     msdyn_paymentterm, numberofemployees)
SELECT c.cdm_companyid, 'US-09100', 'Wide World Importers', 3, g.msdyn_customergroupid,
       t.msdyn_paymenttermid, 120
FROM cdm_company c
JOIN msdyn_customergroup g ON g.msdyn_company = c.cdm_companyid AND g.msdyn_groupid = '70'
JOIN msdyn_paymentterm t ON t.msdyn_company = c.cdm_companyid AND t.msdyn_name = 'Net60'
WHERE c.cdm_companycode = 'usmf';

INSERT INTO cdm_worker (cdm_workernumber, cdm_firstname, cdm_lastname, cdm_gender)
VALUES ('900001', 'Lena', 'Larsen', 754400001);

INSERT INTO cdm_employment (cdm_workerid, cdm_companyid, cdm_employmentstartdate,
                            cdm_employernoticeamount, cdm_employerunitofnotice)
SELECT w.cdm_workerid, c.cdm_companyid, '2026-11-01', 1, 'month'
FROM cdm_worker w, cdm_company c
WHERE w.cdm_workernumber = '900001' AND c.cdm_companycode = 'demf';

-- ---- edited in Dataverse -------------------------------------------------------------

UPDATE account SET telephone1 = '+1 206 555 0000' WHERE accountnumber = 'US-00003';
UPDATE msdyn_vendor SET msdyn_name = 'Northwind Traders (renamed in CRM)'
  WHERE msdyn_vendoraccountnumber = 'V-US-0003';
UPDATE cdm_worker SET cdm_primarytelephone = '+1 425 555 9999' WHERE cdm_workernumber = '000003';

-- ---- edited in F&O, for every map ----------------------------------------------------

UPDATE fo.OMLegalEntity SET NAME = NAME || ' (renamed)' WHERE LEGALENTITYID = 'gbsi';
UPDATE fo.CurrencyEntity SET NAME = 'Yen' WHERE CURRENCYCODE = 'JPY';
UPDATE fo.DimensionAttributeEntity SET REPORTCOLUMNNAME = 'BU' WHERE DIMENSIONNAME = 'BusinessUnit';
UPDATE fo.DimensionIntegrationFormatEntity SET ISACTIVE = 'no'
  WHERE DIMENSIONFORMATNAME = 'Ledger dimension format';
UPDATE fo.PaymentTermEntity SET DESCRIPTION = 'Net 10 days (2% discount)' WHERE NAME = 'Net10';
UPDATE fo.CustCustomerGroupEntity SET DESCRIPTION = 'Web shop customers' WHERE CUSTOMERGROUPID = '90';
UPDATE fo.VendVendorGroupEntity SET DESCRIPTION = 'Freight partners' WHERE VENDORGROUPID = '40';
UPDATE fo.CustCustomerV3Entity SET CREDITLIMIT = '123000' WHERE CUSTOMERACCOUNT = 'DE-00001';
UPDATE fo.CustCustomerV3Entity SET PERSONLASTNAME = 'Hoffmann-Weber' WHERE CUSTOMERACCOUNT = 'US-P00024';
UPDATE fo.VendVendorV2Entity SET CREDITLIMIT = '55000' WHERE VENDORACCOUNTNUMBER = 'V-DE-0001';
UPDATE fo.smmContactPersonCDSV2Entity SET EMPLOYMENTDEPARTMENT = 'Purchasing'
  WHERE CONTACTPERSONID = 'VC-DE-0001';
UPDATE fo.EcoResEveryProductEntity SET PRODUCTNAME = 'Studio Speaker MkII' WHERE PRODUCTNUMBER = 'D0001';
UPDATE fo.EcoResReleasedDistinctProductCDSEntity SET SALESPRICE = '99.500000'
  WHERE PRODUCTNUMBER = 'D0001';
UPDATE fo.EcoResReleasedProductV2Entity SET MARGINABCCODE = 'a' WHERE ITEMNUMBER = 'D0002';
UPDATE fo.HcmWorkerEntity SET WORKERSTATUS = 'terminated' WHERE PERSONNELNUMBER = '000004';
UPDATE fo.HcmEmploymentDetailEntity SET EMPLOYMENTENDDATE = '2026-12-31'
  WHERE PERSONNELNUMBER = '000004';

COMMIT;
