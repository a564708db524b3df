//! Writes an event's data: the content of its variant (a struct variant's fields as a map, a
//! newtype variant's value, a unit variant as nil), through the enum's own `Serialize`, without
//! the variant's name around it (the name travels as the event's type).
use serde::ser::{self, Impossible, Serialize, SerializeStructVariant, SerializeTupleVariant};

pub type Error = rmp_serde::encode::Error;

fn content<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), Error> {
    value.serialize(&mut rmp_serde::Serializer::new(out).with_struct_map())
}

/// Serialize an event enum's content into `out`.
pub struct EventContent<'a>(pub &'a mut Vec<u8>);

fn not_a_variant() -> Error {
    <Error as ser::Error>::custom("an event must be an enum variant (#[derive(Event)] on an externally tagged enum)")
}

macro_rules! refuse {
    ($($method:ident($($arg:ty),*) -> $ok:ty;)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<$ok, Error> { Err(not_a_variant()) })*
    };
}

impl<'a> ser::Serializer for EventContent<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Impossible<(), Error>;
    type SerializeTuple = Impossible<(), Error>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Fields<'a>;
    type SerializeMap = Impossible<(), Error>;
    type SerializeStruct = Impossible<(), Error>;
    type SerializeStructVariant = Fields<'a>;

    fn serialize_unit_variant(self, _name: &'static str, _index: u32, _variant: &'static str) -> Result<(), Error> {
        self.0.push(0xc0);
        Ok(())
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        content(self.0, value)
    }

    fn serialize_tuple_variant(self, _name: &'static str, _index: u32, _variant: &'static str, len: usize) -> Result<Fields<'a>, Error> {
        rmp::encode::write_array_len(self.0, len as u32)?;
        Ok(Fields(self.0))
    }

    fn serialize_struct_variant(self, _name: &'static str, _index: u32, _variant: &'static str, len: usize) -> Result<Fields<'a>, Error> {
        rmp::encode::write_map_len(self.0, len as u32)?;
        Ok(Fields(self.0))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, _value: &T) -> Result<(), Error> {
        Err(not_a_variant())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<(), Error> {
        Err(not_a_variant())
    }

    refuse! {
        serialize_bool(bool) -> ();
        serialize_i8(i8) -> ();
        serialize_i16(i16) -> ();
        serialize_i32(i32) -> ();
        serialize_i64(i64) -> ();
        serialize_u8(u8) -> ();
        serialize_u16(u16) -> ();
        serialize_u32(u32) -> ();
        serialize_u64(u64) -> ();
        serialize_f32(f32) -> ();
        serialize_f64(f64) -> ();
        serialize_char(char) -> ();
        serialize_str(&str) -> ();
        serialize_bytes(&[u8]) -> ();
        serialize_none() -> ();
        serialize_unit() -> ();
        serialize_unit_struct(&'static str) -> ();
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct(&'static str, usize) -> Self::SerializeStruct;
    }
}

/// The fields of a struct or tuple variant, written after their header.
pub struct Fields<'a>(&'a mut Vec<u8>);

impl<'a> SerializeStructVariant for Fields<'a> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        rmp::encode::write_str(self.0, key)?;
        content(self.0, value)
    }

    fn end(self) -> Result<(), Error> {
        Ok(())
    }
}

impl<'a> SerializeTupleVariant for Fields<'a> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        content(self.0, value)
    }

    fn end(self) -> Result<(), Error> {
        Ok(())
    }
}
