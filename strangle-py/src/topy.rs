//! Rust values into Python objects, typed by their Rust types: a `Decimal` becomes
//! `decimal.Decimal`, a `DateTime<Utc>` an aware `datetime.datetime` (UTC), a `NaiveDate` a
//! `datetime.date`; structs and maps become dicts, sequences lists, unit enum variants their
//! serde names, `None` None.
//!
//! The conversion is a serde `Serializer`, so it follows each type's own `Serialize` (field
//! names, renames, skipped fields) exactly as the JSON API does. Decimals and times serialize
//! as strings in serde, so the type is read where serde hands the serializer a value with its
//! type: every generic entry point (`serialize_field`, `serialize_element`, `serialize_some`,
//! ...) compares the value's `TypeId` with those of `Decimal`, `DateTime<Utc>` and
//! `NaiveDate` before serializing it. The values are borrowed, not `'static`, so the id comes
//! from the `typeid` crate (the one `erased-serde` uses), which is unique per type where
//! `std::any::type_name` is not.
//!
//! A general converter (`pythonize`) was considered: it sees a decimal only as the text serde
//! writes, and a pass over its output cannot tell the decimal `"1234"` from an order id
//! `"1234"`, so the type has to be read while serializing, as here. A field written through `#[serde(with = ...)]` must hand its decimal on
//! with its type (`serialize_some(d)`, `d.serialize(s)` inside a `Some`), or it arrives as
//! text; the package's test that no number or time is left as text guards that.

use std::fmt::Display;

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::{PyDict, PyList};
use pyo3::BoundObject;
use rust_decimal::Decimal;
use serde::ser::{self, Serialize};

/// `value` as a Python object, typed as described in the module docs.
pub fn to_py<T: Serialize + ?Sized>(py: Python<'_>, value: &T) -> PyResult<PyObject> {
    typed(py, value).map_err(|e| PyValueError::new_err(e.0))
}

/// A conversion failure (a map key that is not text, a Python call that raised).
#[derive(Debug)]
pub struct Error(String);

impl Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<M: Display>(msg: M) -> Self {
        Self(msg.to_string())
    }
}

impl From<PyErr> for Error {
    fn from(e: PyErr) -> Self {
        Self(e.to_string())
    }
}

type Res = Result<PyObject, Error>;

/// What a leaf of type `T` becomes, when the type itself decides.
#[derive(Clone, Copy)]
enum Leaf {
    Decimal,
    Time,
    Date,
}

fn leaf_of<T: ?Sized>() -> Option<Leaf> {
    let id = typeid::of::<T>();
    if id == typeid::of::<Decimal>() {
        Some(Leaf::Decimal)
    } else if id == typeid::of::<DateTime<Utc>>() {
        Some(Leaf::Time)
    } else if id == typeid::of::<NaiveDate>() {
        Some(Leaf::Date)
    } else {
        None
    }
}

/// `value` typed: a decimal, time or date by its type, anything else by its `Serialize`.
fn typed<T: Serialize + ?Sized>(py: Python<'_>, value: &T) -> Res {
    let Some(leaf) = leaf_of::<T>() else {
        return value.serialize(ToPy { py });
    };
    let text = value.serialize(Text)?;
    match leaf {
        Leaf::Decimal => decimal(py, &text),
        Leaf::Time => time(py, &text),
        Leaf::Date => date(py, &text),
    }
}

/// `module.name`, looked up once per process.
fn cached<'py>(
    py: Python<'py>,
    cell: &'static GILOnceCell<PyObject>,
    module: &str,
    name: &str,
) -> PyResult<&'py Bound<'py, PyAny>> {
    let obj = cell.get_or_try_init(py, || -> PyResult<PyObject> {
        Ok(py.import(module)?.getattr(name)?.unbind())
    })?;
    Ok(obj.bind(py))
}

fn decimal(py: Python<'_>, text: &str) -> Res {
    static CLASS: GILOnceCell<PyObject> = GILOnceCell::new();
    Ok(cached(py, &CLASS, "decimal", "Decimal")?
        .call1((text,))?
        .unbind())
}

fn time(py: Python<'_>, text: &str) -> Res {
    static CLASS: GILOnceCell<PyObject> = GILOnceCell::new();
    static ZONES: GILOnceCell<PyObject> = GILOnceCell::new();
    let t = DateTime::parse_from_rfc3339(text)
        .map_err(|e| Error(format!("time {text:?}: {e}")))?
        .with_timezone(&Utc);
    let utc = cached(py, &ZONES, "datetime", "timezone")?.getattr("utc")?;
    let args = (
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.timestamp_subsec_micros(),
        utc,
    );
    Ok(cached(py, &CLASS, "datetime", "datetime")?
        .call1(args)?
        .unbind())
}

fn date(py: Python<'_>, text: &str) -> Res {
    let d: NaiveDate = text
        .parse()
        .map_err(|e| Error(format!("date {text:?}: {e}")))?;
    let args = (d.year(), d.month(), d.day());
    Ok(py
        .import("datetime")?
        .getattr("date")?
        .call1(args)?
        .unbind())
}

/// The serializer that builds Python objects.
#[derive(Clone, Copy)]
struct ToPy<'py> {
    py: Python<'py>,
}

impl<'py> ToPy<'py> {
    fn obj<V: IntoPyObject<'py>>(self, v: V) -> Res {
        match v.into_pyobject(self.py) {
            Ok(o) => Ok(o.into_bound().into_any().unbind()),
            Err(e) => Err(Error(e.into().to_string())),
        }
    }
}

/// A list being built.
struct Seq<'py> {
    py: Python<'py>,
    items: Vec<PyObject>,
    /// Tuple variants become `{variant: [items]}`.
    variant: Option<&'static str>,
}

impl Seq<'_> {
    fn push<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        self.items.push(typed(self.py, v)?);
        Ok(())
    }

    fn finish(self) -> Res {
        let list = PyList::new(self.py, self.items)?.into_any().unbind();
        wrap(self.py, self.variant, list)
    }
}

/// A dict being built.
struct Map<'py> {
    py: Python<'py>,
    dict: Bound<'py, PyDict>,
    key: Option<PyObject>,
    /// Struct variants become `{variant: {fields}}`.
    variant: Option<&'static str>,
}

impl Map<'_> {
    fn finish(self) -> Res {
        let dict = self.dict.into_any().unbind();
        wrap(self.py, self.variant, dict)
    }
}

fn wrap(py: Python<'_>, variant: Option<&'static str>, inner: PyObject) -> Res {
    match variant {
        None => Ok(inner),
        Some(name) => {
            let d = PyDict::new(py);
            d.set_item(name, inner)?;
            Ok(d.into_any().unbind())
        }
    }
}

impl<'py> ser::Serializer for ToPy<'py> {
    type Ok = PyObject;
    type Error = Error;
    type SerializeSeq = Seq<'py>;
    type SerializeTuple = Seq<'py>;
    type SerializeTupleStruct = Seq<'py>;
    type SerializeTupleVariant = Seq<'py>;
    type SerializeMap = Map<'py>;
    type SerializeStruct = Map<'py>;
    type SerializeStructVariant = Map<'py>;

    fn serialize_bool(self, v: bool) -> Res {
        self.obj(v)
    }
    fn serialize_i8(self, v: i8) -> Res {
        self.obj(v)
    }
    fn serialize_i16(self, v: i16) -> Res {
        self.obj(v)
    }
    fn serialize_i32(self, v: i32) -> Res {
        self.obj(v)
    }
    fn serialize_i64(self, v: i64) -> Res {
        self.obj(v)
    }
    fn serialize_i128(self, v: i128) -> Res {
        self.obj(v)
    }
    fn serialize_u8(self, v: u8) -> Res {
        self.obj(v)
    }
    fn serialize_u16(self, v: u16) -> Res {
        self.obj(v)
    }
    fn serialize_u32(self, v: u32) -> Res {
        self.obj(v)
    }
    fn serialize_u64(self, v: u64) -> Res {
        self.obj(v)
    }
    fn serialize_u128(self, v: u128) -> Res {
        self.obj(v)
    }
    fn serialize_f32(self, v: f32) -> Res {
        self.obj(v)
    }
    fn serialize_f64(self, v: f64) -> Res {
        self.obj(v)
    }
    fn serialize_char(self, v: char) -> Res {
        self.obj(v)
    }
    fn serialize_str(self, v: &str) -> Res {
        self.obj(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Res {
        Ok(pyo3::types::PyBytes::new(self.py, v).into_any().unbind())
    }
    fn serialize_none(self) -> Res {
        Ok(self.py.None())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Res {
        typed(self.py, value)
    }
    fn serialize_unit(self) -> Res {
        Ok(self.py.None())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Res {
        Ok(self.py.None())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Res {
        self.obj(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Res {
        typed(self.py, value)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Res {
        let inner = typed(self.py, value)?;
        wrap(self.py, Some(variant), inner)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq<'py>, Error> {
        Ok(Seq {
            py: self.py,
            items: Vec::with_capacity(len.unwrap_or(0)),
            variant: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'py>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Seq<'py>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Seq<'py>, Error> {
        let mut s = self.serialize_seq(Some(len))?;
        s.variant = Some(variant);
        Ok(s)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Map<'py>, Error> {
        Ok(Map {
            py: self.py,
            dict: PyDict::new(self.py),
            key: None,
            variant: None,
        })
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Map<'py>, Error> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Map<'py>, Error> {
        let mut m = self.serialize_map(Some(len))?;
        m.variant = Some(variant);
        Ok(m)
    }
}

/// The four sequence traits of serde, all pushing onto the list.
macro_rules! seq_impl {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Seq<'_> {
            type Ok = PyObject;
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
                self.push(v)
            }
            fn end(self) -> Res {
                self.finish()
            }
        }
    )*};
}

seq_impl!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Map<'_> {
    type Ok = PyObject;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        // Keys stay as serde writes them (a date key is its ISO text, as in the JSON API).
        self.key = Some(key.serialize(ToPy { py: self.py })?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self
            .key
            .take()
            .ok_or_else(|| Error("a map value without its key".into()))?;
        self.dict.set_item(key, typed(self.py, value)?)?;
        Ok(())
    }
    fn end(self) -> Res {
        self.finish()
    }
}

/// The two struct traits of serde, both setting a dict item per field.
macro_rules! struct_impl {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Map<'_> {
            type Ok = PyObject;
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                name: &'static str,
                value: &T,
            ) -> Result<(), Error> {
                self.dict.set_item(name, typed(self.py, value)?)?;
                Ok(())
            }
            fn end(self) -> Res {
                self.finish()
            }
        }
    )*};
}

struct_impl!(SerializeStruct, SerializeStructVariant);

/// Captures the text a decimal, time or date serializes to.
struct Text;

impl ser::Serializer for Text {
    type Ok = String;
    type Error = Error;
    type SerializeSeq = ser::Impossible<String, Error>;
    type SerializeTuple = ser::Impossible<String, Error>;
    type SerializeTupleStruct = ser::Impossible<String, Error>;
    type SerializeTupleVariant = ser::Impossible<String, Error>;
    type SerializeMap = ser::Impossible<String, Error>;
    type SerializeStruct = ser::Impossible<String, Error>;
    type SerializeStructVariant = ser::Impossible<String, Error>;

    fn serialize_str(self, v: &str) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn collect_str<D: Display + ?Sized>(self, v: &D) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_bool(self, _: bool) -> Result<String, Error> {
        Err(not_text())
    }
    fn serialize_i8(self, _: i8) -> Result<String, Error> {
        Err(not_text())
    }
    fn serialize_i16(self, _: i16) -> Result<String, Error> {
        Err(not_text())
    }
    fn serialize_i32(self, _: i32) -> Result<String, Error> {
        Err(not_text())
    }
    fn serialize_i64(self, _: i64) -> Result<String, Error> {
        Err(not_text())
    }
    fn serialize_u8(self, _: u8) -> Result<String, Error> {
        Err(not_text())
    }
    fn serialize_u16(self, _: u16) -> Result<String, Error> {
        Err(not_text())
    }
    fn serialize_u32(self, _: u32) -> Result<String, Error> {
        Err(not_text())
    }
    fn serialize_u64(self, _: u64) -> Result<String, Error> {
        Err(not_text())
    }
    fn serialize_f32(self, _: f32) -> Result<String, Error> {
        Err(not_text())
    }
    fn serialize_f64(self, _: f64) -> Result<String, Error> {
        Err(not_text())
    }
    fn serialize_char(self, _: char) -> Result<String, Error> {
        Err(not_text())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<String, Error> {
        Err(not_text())
    }
    fn serialize_none(self) -> Result<String, Error> {
        Err(not_text())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<String, Error> {
        Err(not_text())
    }
    fn serialize_unit(self) -> Result<String, Error> {
        Err(not_text())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<String, Error> {
        Err(not_text())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<String, Error> {
        Err(not_text())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<String, Error> {
        Err(not_text())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, Error> {
        Err(not_text())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(not_text())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(not_text())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(not_text())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(not_text())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(not_text())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(not_text())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(not_text())
    }
}

fn not_text() -> Error {
    Error("a decimal, time or date that does not serialize as text".into())
}
